"""pytest-benchmark suites of the engine, and the one speed gate: a ratio within one run.

Absolute times depend on the machine and are never asserted; the gate compares the numba
batch engine on one core with the fair NumPy contender of ``dsg bench`` on the same job in
the same process.
"""

import statistics
import subprocess
import sys
import time

import numba
import numpy as np
import pytest

from dsg import load_dataset
from dsg.analysis.bench import bench_batch, numba_summaries, numpy_summaries
from dsg.analysis.decompose import decompose_comparison
from dsg.analysis.robustness import montecarlo
from dsg.formula import batch as batches
from dsg.formula.arrays import to_inputs
from dsg.formula.settle import settle_inputs
from dsg.formula.synthetic import write_synthetic_dataset
from dsg.pipeline import compare as compare_files

BATCH = 400_000


@pytest.fixture(scope="module")
def inputs():
    return to_inputs(load_dataset())


@pytest.fixture(scope="module")
def batch(inputs):
    return bench_batch(inputs, BATCH, seed=1)


def summarise_once(inputs, batch):
    summary = batches.Summary(len(inputs.councils))
    batches.summarise_chunk(inputs, batch, summary)
    return summary


def test_single_settlement(benchmark, inputs):
    out, _scalars = benchmark(settle_inputs, inputs)
    assert np.isfinite(out).all()


def test_batch_warm(benchmark, inputs, batch):
    summarise_once(inputs, batch.part(0, 64))
    summary = benchmark(summarise_once, inputs, batch)
    assert summary.count == BATCH


# Council-settlements per round of the scale benchmarks: the same work at every size, and
# enough scenarios for 2,000 councils (16,000) that the kernel's tiles are full.
COUNCIL_SETTLEMENTS = 32_000_000


@pytest.mark.parametrize("councils", [22, 2000])
def test_batch_of_48_indicators(benchmark, tmp_path_factory, councils):
    """How the engine scales: synthetic datasets of 22 and 2,000 councils with 48 indicators,
    the same number of council-settlements each (their rate should stay about flat)."""
    folder = write_synthetic_dataset(tmp_path_factory.mktemp(f"synthetic-{councils}"), councils, 48, 6)
    inputs = to_inputs(load_dataset(folder))
    size = COUNCIL_SETTLEMENTS // councils
    batch = bench_batch(inputs, size, seed=1)
    # One summary for every round, as a Monte Carlo run keeps one: with 2,000 councils its
    # histograms take 320 MB, which a round that made its own would spend time zeroing.
    summary = batches.Summary(councils)
    batches.summarise_chunk(inputs, batch.part(0, 64), summary)
    benchmark(batches.summarise_chunk, inputs, batch, summary)
    assert summary.count > size and (summary.count - 64) % size == 0
    rate = size * councils / benchmark.stats.stats.median
    benchmark.extra_info["council_settlements_per_second"] = rate
    print(f"\n{councils} councils x 48 indicators: {rate / 1e6:,.0f} M council-settlements a second (median)")


def test_montecarlo(benchmark):
    dataset = load_dataset()
    montecarlo(dataset, 1000)
    result = benchmark.pedantic(montecarlo, (dataset, 200_000), rounds=3, iterations=1)
    assert result.summary.count == 200_000


def test_batch_cold(benchmark):
    # A fresh process: import, load the cached compilation, settle 10^5 scenarios.
    code = (
        "from dsg import load_dataset; from dsg.formula.arrays import to_inputs; from dsg.analysis.bench import bench_batch;"
        "from dsg.formula import batch as b; i = to_inputs(load_dataset());"
        f"s = b.Summary(22); b.summarise_chunk(i, bench_batch(i, {BATCH}), s); assert s.count == {BATCH}"
    )
    benchmark.pedantic(lambda: subprocess.run([sys.executable, "-c", code], check=True), rounds=2, iterations=1)


def test_decomposition(benchmark, tmp_path):
    scenario = tmp_path / "s.toml"
    scenario.write_text(
        '[settlement]\nfloor_percent = 3.5\naef_total = 6.2e9\n[services]\n"School Services" = 3.1e9\n'
        '[weights."Personal Social Services"]\npopulation = 0.5\nlsoas_most_deprived_20pct = 0.5\n',
        encoding="utf-8",
    )
    comparison = compare_files([scenario])
    parts = benchmark(decompose_comparison, comparison, "shapley")
    assert parts[0].settlements == 16


# The gate's rounds: numba and NumPy alternate, so that whatever else the machine does at a
# moment slows both alike; each contender runs this many times.
GATE_ROUNDS = 9
# The ratio the gate asks for, and the part of it a busy machine may take away (see the gate).
REQUIRED_RATIO = 3.0
MARGIN = 0.8


def interleaved_medians(contenders, rounds=GATE_ROUNDS):
    """Median wall time of each contender over ``rounds`` rounds, run one after the other in
    every round (a, b, a, b, ...)."""
    times = [[] for _ in contenders]
    for _ in range(rounds):
        for timings, function in zip(times, contenders):
            start = time.perf_counter()
            function()
            timings.append(time.perf_counter() - start)
    return [statistics.median(timings) for timings in times]


def test_numba_on_one_core_is_several_times_the_fair_numpy(inputs, batch):
    """The CI gate: a ratio measured in one run, never a time.

    numba on one thread and the fair NumPy contender of ``dsg bench`` (chunked, buffers made
    once) do the same job on the same batch, one core each, so load on the machine slows
    both alike. They run GATE_ROUNDS times, interleaved (numba, NumPy, numba, ...), and the
    median times are compared: a burst of other work slows the runs next to it on both
    sides, and a median ignores the few rounds it hits.

    The gate passes at a median ratio of REQUIRED_RATIO x MARGIN = 2.4. Measured on the
    2-core CI machine: 4.2 to 4.7 when quiet (3.4 for the kernel before its four-indicator
    passes, fused tallies and loads from 0). A kernel that stops vectorising (the scalar
    kernel of before ran at 0.7 of this NumPy) or falls back to object mode fails it.
    """
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        numba_summaries(inputs, batch.part(0, 64))  # compile outside the timing
        numpy_summaries(inputs, batch.part(0, 64))
        numba_time, numpy_time = interleaved_medians(
            [lambda: numba_summaries(inputs, batch), lambda: numpy_summaries(inputs, batch)]
        )
    finally:
        numba.set_num_threads(threads)
    numba_rate, numpy_rate = BATCH / numba_time, BATCH / numpy_time
    ratio = numba_rate / numpy_rate
    print(
        f"\nmedians of {GATE_ROUNDS} interleaved rounds, one core each: numba {numba_time * 1e3:.1f} ms "
        f"({numba_rate:,.0f}/s), numpy {numpy_time * 1e3:.1f} ms ({numpy_rate:,.0f}/s), ratio {ratio:.2f} "
        f"(gate {REQUIRED_RATIO * MARGIN:.2f})"
    )
    assert ratio >= REQUIRED_RATIO * MARGIN
