"""pytest-benchmark suites of the engine, and the one speed gate: a ratio within one run.

Absolute times depend on the machine and are never asserted; the gate compares the numba
batch engine with the vectorised NumPy reference on the same inputs in the same process.
"""

import statistics
import subprocess
import sys
import time

import numpy as np
import pytest

from dsg import load_dataset
from dsg.analysis.bench import bench_batch
from dsg.analysis.decompose import decompose_comparison
from dsg.formula import batch as batches
from dsg.formula.arrays import to_inputs
from dsg.formula.reference import reference_batch
from dsg.formula.settle import settle_inputs
from dsg.pipeline import compare as compare_files

BATCH = 100_000


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
REQUIRED_RATIO = 2.0
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


def test_numba_batch_is_at_least_twice_the_numpy_reference(inputs, batch):
    """The CI gate (issue: benchmarks in CI): a ratio measured in one run, never a time.

    The numba batch engine must settle at least twice as many scenarios per second as the
    vectorised NumPy reference on the same batch. Both run GATE_ROUNDS times, interleaved
    (numba, NumPy, numba, NumPy, ...), and the median times are compared: a burst of other
    work slows the runs next to it on both sides, and a median ignores the few rounds it
    hits, where a best-of-N time rewards one lucky run of one contender.

    The gate passes at a median ratio of REQUIRED_RATIO x MARGIN = 1.6, not 2.0. Measured on
    the 2-core CI machine: about 5 when idle, about 3 with numba on one thread, 2.6 to 3.3
    with other processes holding one or both cores. numba runs on every core and NumPy on one,
    so load that holds a core for the whole gate takes from numba's rate and not NumPy's:
    interleaving cannot even that out. The 20 % margin keeps a busy machine from failing a
    sound engine, while the regressions the gate exists for still fail it: a kernel that
    stops compiling or falls back to object mode settles no faster than NumPy (a ratio near
    or below 1).
    """
    summarise_once(inputs, batch.part(0, 64))  # compile outside the timing
    reference_batch(inputs, batch.part(0, 64))
    numba_time, numpy_time = interleaved_medians(
        [lambda: summarise_once(inputs, batch), lambda: reference_batch(inputs, batch)]
    )
    numba_rate, numpy_rate = BATCH / numba_time, BATCH / numpy_time
    ratio = numba_rate / numpy_rate
    print(
        f"\nmedians of {GATE_ROUNDS} interleaved rounds: numba {numba_time * 1e3:.1f} ms ({numba_rate:,.0f}/s), "
        f"numpy {numpy_time * 1e3:.1f} ms ({numpy_rate:,.0f}/s), ratio {ratio:.2f} "
        f"(gate {REQUIRED_RATIO * MARGIN:.2f})"
    )
    assert ratio >= REQUIRED_RATIO * MARGIN
