"""dsg bench's contenders do the same job: their summaries agree with the numba engine's."""

import numpy as np
import pytest

from dsg import load_dataset
from dsg.analysis import bench
from dsg.formula import batch as batches
from dsg.formula import kernels
from dsg.formula.arrays import to_inputs


@pytest.fixture(scope="module")
def inputs():
    return to_inputs(load_dataset())


def assert_same_summaries(got: bench.Summaries, expected: bench.Summaries, bins_apart: int = 0) -> None:
    assert got.count == expected.count
    np.testing.assert_allclose(got.sums, expected.sums, rtol=1e-10)
    np.testing.assert_allclose(got.lows, expected.lows, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got.highs, expected.highs, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(got.on_floor, expected.on_floor)
    assert got.histogram.sum() == expected.histogram.sum()
    # A % change within float noise of a bin's edge may fall either side of it.
    assert np.abs(got.histogram - expected.histogram).sum() <= 2 * bins_apart


def test_every_contender_keeps_the_same_summaries(inputs):
    batch = bench.bench_batch(inputs, 6000, seed=4)
    engine = bench.numba_summaries(inputs, batch)
    # The job really exercises the floor and the histogram: not all on it, not none.
    assert 0 < engine.on_floor.sum() < 6000 * len(inputs.councils)
    assert (engine.histogram > 0).sum() > 1000
    assert_same_summaries(bench.numpy_summaries(inputs, batch, chunk=1000), engine)
    assert_same_summaries(bench.polars_query_summaries(inputs, batch), engine, bins_apart=3)
    few = batch.part(0, 150)
    assert_same_summaries(bench.polars_per_scenario_summaries(inputs, few), bench.numba_summaries(inputs, few), 3)


def test_the_engine_summaries_are_those_of_the_full_matrix(inputs):
    batch = bench.bench_batch(inputs, 3000, seed=5)
    matrix = batches.settle_many(inputs, batch)
    assert (matrix["status"] == kernels.OK).all()
    engine = bench.numba_summaries(inputs, batch)
    pct = matrix["pct_change"]
    np.testing.assert_array_equal(engine.lows, pct.min(axis=0))
    np.testing.assert_array_equal(engine.highs, pct.max(axis=0))
    np.testing.assert_allclose(engine.sums, pct.sum(axis=0), rtol=1e-12)


def test_a_negative_band_d_is_left_out_by_every_contender(inputs):
    batch = bench.bench_batch(inputs, 500, seed=6)
    batch.aef_total[::7] = 1e12  # more than the SSA: a notional Band D below 0
    engine = bench.numba_summaries(inputs, batch)
    assert engine.histogram.sum() == (500 - len(range(0, 500, 7))) * len(inputs.councils)
    assert_same_summaries(bench.numpy_summaries(inputs, batch, chunk=128), engine)
    assert_same_summaries(bench.polars_query_summaries(inputs, batch), engine, bins_apart=3)


def test_the_contenders_refuse_what_they_were_not_written_for(inputs):
    batch = bench.bench_batch(inputs, 10)
    batch.self_funded[3] = True
    for contender in (bench.numpy_summaries, bench.polars_query_summaries, bench.polars_per_scenario_summaries):
        with pytest.raises(ValueError):
            contender(inputs, batch)
