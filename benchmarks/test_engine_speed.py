"""pytest-benchmark suites of the engine, and the one speed gate: a ratio within one run.

Absolute times depend on the machine and are never asserted; the gate compares the numba
batch engine with the vectorised NumPy reference on the same inputs in the same process.
"""

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


def best_time(function, repeats=5):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def test_numba_batch_is_at_least_twice_the_numpy_reference(inputs, batch):
    """The CI gate (issue: benchmarks in CI): a ratio measured in one run, never a time."""
    summarise_once(inputs, batch.part(0, 64))
    numba_rate = BATCH / best_time(lambda: summarise_once(inputs, batch))
    numpy_rate = BATCH / best_time(lambda: reference_batch(inputs, batch))
    print(f"\nnumba {numba_rate:,.0f}/s, numpy {numpy_rate:,.0f}/s, ratio {numba_rate / numpy_rate:.1f}")
    assert numba_rate >= 2 * numpy_rate
