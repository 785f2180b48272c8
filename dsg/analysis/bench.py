"""Settlements per second, four ways, on the same inputs in one run (``dsg bench``).

(a) the numba batch engine on all cores, (b) on one core, (c) the vectorised NumPy
reference (dsg.formula.reference.reference_batch), (d) an idiomatic per-scenario polars
implementation of SPEC §3 (one DataFrame pipeline per scenario). Each is timed on its own
number of scenarios (the slow ones on fewer) and reported per second, with the ratios.
"""

from __future__ import annotations

import time

import numba
import numpy as np
import polars as pl

from dsg.analysis.options import bench_option_problems
from dsg.errors import raise_if
from dsg.formula import batch as batches
from dsg.formula import kernels
from dsg.formula.arrays import Inputs, to_inputs
from dsg.formula.dataset import Dataset, load_dataset
from dsg.formula.reference import reference_batch


def bench_batch(inputs: Inputs, size: int, seed: int = 0) -> batches.Batch:
    """Scenarios that vary weights (through £ per indicator), aef_total and the floor."""
    rng = np.random.default_rng(seed)
    noise = rng.uniform(0.9, 1.1, size=(size, len(inputs.indicators)))
    pounds = inputs.indicator_pounds * noise
    pounds *= inputs.indicator_pounds.sum() / pounds.sum(axis=1, keepdims=True)
    return batches.repeat(
        inputs,
        size,
        indicator_pounds=pounds,
        aef_total=inputs.aef_total * rng.uniform(0.98, 1.02, size),
        floor_percent=rng.uniform(0.0, 4.0, size),
    )


def polars_settlement(
    councils: pl.DataFrame, pounds: dict[str, float], aef_total: float, floor_percent: float, ndr_pool: float
) -> pl.DataFrame:
    """SPEC §3 for one scenario as a polars pipeline (external floor, no cap)."""
    frame = councils.with_columns(
        pl.sum_horizontal(pl.col(f"share_{k}") * amount for k, amount in pounds.items())
        .add(pl.col("fixed"))
        .alias("ssa")
    )
    band_d = (float(frame["ssa"].sum()) - aef_total) / float(frame["taxbase"].sum())
    return (
        frame.with_columns(
            (pl.col("ssa") - band_d * pl.col("taxbase")).alias("aef_formula"),
        )
        .with_columns(
            (pl.col("base") * (1 + floor_percent / 100) - pl.col("aef_formula"))
            .clip(lower_bound=0)
            .alias("floor_topup"),
        )
        .with_columns(
            (pl.col("aef_formula") + pl.col("floor_topup")).alias("aef"),
            (ndr_pool * pl.col("ndr_share")).alias("ndr"),
        )
        .with_columns(
            (pl.col("aef") - pl.col("ndr")).alias("rsg"),
            (100 * (pl.col("aef") - pl.col("base")) / pl.col("base")).alias("pct_change"),
        )
        .with_columns(pl.col("pct_change").round(kernels.RANK_DECIMALS).rank("ordinal", descending=True).alias("rank"))
    )


def polars_frame(inputs: Inputs) -> pl.DataFrame:
    return pl.DataFrame(
        {
            **{f"share_{k}": inputs.shares[index] for index, k in enumerate(inputs.indicators)},
            "fixed": inputs.fixed,
            "taxbase": inputs.taxbase,
            "base": inputs.base,
            "ndr_share": inputs.ndr_share,
        }
    )


def timed(function, repeats: int = 3) -> float:
    """Best of ``repeats`` wall times, in seconds."""
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def run_bench(dataset: Dataset | None = None, scenarios: int = 2_000_000, repeats: int = 3) -> dict:
    """Settlements per second for the four engines, and their ratios."""
    raise_if(bench_option_problems(scenarios))
    inputs = to_inputs(dataset or load_dataset())
    big = bench_batch(inputs, scenarios)
    numpy_size = max(scenarios // 20, 1000)
    polars_size = 200
    # Compile (or load the cached compilation) before timing.
    batches.summarise_chunk(inputs, big.part(0, 64), batches.Summary(len(inputs.councils)))

    def numba_run():
        batches.summarise_chunk(inputs, big, batches.Summary(len(inputs.councils)))

    threads = numba.get_num_threads()
    all_cores = scenarios / timed(numba_run, repeats)
    numba.set_num_threads(1)
    try:
        one_core = scenarios / timed(numba_run, repeats)
    finally:
        numba.set_num_threads(threads)
    small = big.part(0, numpy_size)
    numpy_rate = numpy_size / timed(lambda: reference_batch(inputs, small), repeats)
    frame = polars_frame(inputs)

    def polars_run():
        for j in range(polars_size):
            pounds = dict(zip(inputs.indicators, big.indicator_pounds[j]))
            polars_settlement(frame, pounds, big.aef_total[j], big.floor_percent[j], inputs.ndr_pool)

    polars_rate = polars_size / timed(polars_run, repeats)
    return {
        "scenarios": scenarios,
        "threads": threads,
        "numba_all_cores": all_cores,
        "numba_one_core": one_core,
        "numpy": numpy_rate,
        "polars_per_scenario": polars_rate,
        "ratio_numba_to_numpy": all_cores / numpy_rate,
        "ratio_numba_to_polars": all_cores / polars_rate,
        "ratio_all_to_one_core": all_cores / one_core,
    }
