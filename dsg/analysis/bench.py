"""Settlements per second, five ways, on the same job in one run (``dsg bench``).

The job is the one sweeps and Monte Carlo give the engine: settle N scenarios (random
weights, through the £ per indicator, a random AEF total and a random external floor) and
keep, per council, the summaries of the % change (sum for the mean, lowest, highest, count
on the floor, and the histogram the percentiles come from). Every contender returns the
same :class:`Summaries`, and the tests check that they agree.

(a) the numba batch engine on all cores; (b) the same on one core; (c) the fastest plain
NumPy we could write for it: chunks of scenarios laid out council by council, every buffer
made once, ``out=`` for each step, the histogram by ``bincount``; (d) polars as one lazy query over scenario x council
rows, the way a data analyst would put it to a query engine; (e) polars one scenario at a
time, a DataFrame pipeline per scenario, the way a spreadsheet is recalculated. Each is
timed as the median of several runs, on as many scenarios as it can settle in a few
seconds, and reported per second.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from functools import partial

import numba
import numpy as np
import polars as pl

from dsg.analysis.options import bench_option_problems
from dsg.errors import raise_if
from dsg.formula import batch as batches
from dsg.formula.arrays import Inputs, to_inputs
from dsg.formula.dataset import Dataset, load_dataset

HIST_LOW, HIST_SCALE, HIST_BINS = batches.HIST_LOW, batches.HIST_SCALE, batches.HIST_BINS


def bench_batch(inputs: Inputs, size: int, seed: int = 0) -> batches.Batch:
    """Scenarios that vary weights (through £ per indicator), aef_total and the floor."""
    rng = np.random.default_rng(seed)
    noise = rng.uniform(0.9, 1.1, size=(size, len(inputs.indicators)))
    pounds = inputs.indicator_pounds * noise
    pounds *= inputs.indicator_pounds.sum() / pounds.sum(axis=1, keepdims=True)
    return batches.repeat(
        inputs,
        size,
        # Stored indicator by indicator, as Monte Carlo draws them (see batch.run_kernel).
        indicator_pounds=np.asfortranarray(pounds),
        aef_total=inputs.aef_total * rng.uniform(0.98, 1.02, size),
        floor_percent=rng.uniform(0.0, 4.0, size),
        notional_band_d=np.full(size, np.nan),
        cap_percent=np.full(size, np.nan),
        self_funded=np.zeros(size, dtype=bool),
    )


@dataclass
class Summaries:
    """Per-council summaries of % change, as every contender returns them."""

    count: int
    sums: np.ndarray
    lows: np.ndarray
    highs: np.ndarray
    on_floor: np.ndarray
    histogram: np.ndarray  # councils x HIST_BINS


def check_job(batch: batches.Batch) -> None:
    """The contenders other than numba settle the bench job only: an external floor, no cap,
    no given notional Band D, one set of shares."""
    if (
        batch.shares.ndim != 2
        or np.isnan(batch.floor_percent).any()
        or not np.isnan(batch.cap_percent).all()
        or batch.self_funded.any()
        or not np.isnan(batch.notional_band_d).all()
    ):
        raise ValueError("the bench contenders settle external floors, without caps, only")


# --------------------------------------------------------------------------- (a), (b) numba


def numba_summaries(inputs: Inputs, batch: batches.Batch) -> Summaries:
    summary = batches.Summary(len(inputs.councils))
    batches.summarise_chunk(inputs, batch, summary)
    return Summaries(summary.count, summary.sums, summary.lows, summary.highs, summary.on_floor, summary.histogram)


# --------------------------------------------------------------------------- (c) NumPy


def numpy_summaries(inputs: Inputs, batch: batches.Batch, chunk: int = 4096) -> Summaries:
    """The job in vectorised NumPy: whole-array steps over a chunk of scenarios at a time,
    into buffers made once. Arrays are council by council (councils x scenarios), as the
    kernel lays them out, so each council's sums, bounds and counts run along memory."""
    check_job(batch)
    councils = len(inputs.councils)
    size = min(chunk, batch.size)
    ssa, work, topup = (np.empty((councils, size)) for _ in range(3))
    positions = np.empty((councils, size), dtype=np.int64)
    band_d, floor_factor = np.empty(size), np.empty(size)
    offsets = (np.arange(councils) * HIST_BINS)[:, None]
    shares = np.ascontiguousarray(inputs.shares.T)
    fixed, base, taxbase = inputs.fixed[:, None], inputs.base[:, None], inputs.taxbase[:, None]
    scale = 100.0 / base
    sum_taxbase = inputs.taxbase.sum()
    sums, lows, highs = np.zeros(councils), np.full(councils, np.inf), np.full(councils, -np.inf)
    on_floor = np.zeros(councils, dtype=np.int64)
    histogram = np.zeros(councils * HIST_BINS, dtype=np.int64)
    for start in range(0, batch.size, size):
        stop = min(start + size, batch.size)
        m = stop - start
        s, w, t, p, b, f = ssa[:, :m], work[:, :m], topup[:, :m], positions[:, :m], band_d[:m], floor_factor[:m]
        np.matmul(shares, batch.indicator_pounds[start:stop].T, out=s)
        s += fixed
        np.sum(s, axis=0, out=b)
        b -= batch.aef_total[start:stop]
        b /= sum_taxbase
        ok = b >= 0.0
        settled = bool(ok.all())
        np.divide(batch.floor_percent[start:stop], 100.0, out=f)
        f += 1.0
        np.multiply(taxbase, b, out=w)
        np.subtract(s, w, out=w)  # formula AEF
        np.multiply(base, f, out=t)
        t -= w
        np.maximum(t, 0.0, out=t)  # floor top-up
        w += t
        w -= base
        w *= scale  # % change
        rows, tops = (w, t) if settled else (w[:, ok], t[:, ok])
        sums += rows.sum(axis=1)
        np.minimum(lows, rows.min(axis=1, initial=np.inf), out=lows)
        np.maximum(highs, rows.max(axis=1, initial=-np.inf), out=highs)
        on_floor += np.count_nonzero(tops >= batches.FLOOR_EPSILON, axis=1)
        w -= HIST_LOW
        w *= HIST_SCALE
        np.floor(w, out=w)
        np.clip(w, 0, HIST_BINS - 1, out=w)
        p[...] = w
        p += offsets
        histogram += np.bincount((p if settled else p[:, ok]).ravel(), minlength=histogram.size)
    return Summaries(batch.size, sums, lows, highs, on_floor, histogram.reshape(councils, HIST_BINS))


# --------------------------------------------------------------------------- (d), (e) polars


def council_frame(inputs: Inputs) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "council": np.arange(len(inputs.councils)),
            **{f"share_{k}": inputs.shares[k] for k in range(len(inputs.indicators))},
            "fixed": inputs.fixed,
            "taxbase": inputs.taxbase,
            "base": inputs.base,
        }
    )


def settled_rows(frame: pl.LazyFrame, indicators: int, sum_taxbase: float, per: str | None) -> pl.LazyFrame:
    """SPEC §3.2-3.7 (external floor, no cap) as polars expressions; ``per`` groups the
    scenario's rows for its Wales sum (None: the frame is one scenario)."""
    ssa = pl.sum_horizontal(pl.col(f"pounds_{k}") * pl.col(f"share_{k}") for k in range(indicators)) + pl.col("fixed")
    total = pl.col("ssa").sum() if per is None else pl.col("ssa").sum().over(per)
    return (
        frame.with_columns(ssa.alias("ssa"))
        .with_columns(((total - pl.col("aef_total")) / sum_taxbase).alias("band_d"))
        .filter(pl.col("band_d") >= 0)
        .with_columns((pl.col("ssa") - pl.col("band_d") * pl.col("taxbase")).alias("aef_formula"))
        .with_columns(
            (pl.col("base") * (1 + pl.col("floor_percent") / 100) - pl.col("aef_formula")).clip(0).alias("topup")
        )
        .with_columns(((pl.col("aef_formula") + pl.col("topup") - pl.col("base")) * 100 / pl.col("base")).alias("pct"))
        .with_columns(
            ((pl.col("pct") - HIST_LOW) * HIST_SCALE).floor().clip(0, HIST_BINS - 1).cast(pl.Int64).alias("bin")
        )
    )


def polars_query_summaries(inputs: Inputs, batch: batches.Batch) -> Summaries:
    """The job as one lazy polars query over scenario x council rows."""
    check_job(batch)
    indicators = len(inputs.indicators)
    scenarios = pl.DataFrame(
        {
            "scenario": np.arange(batch.size),
            **{f"pounds_{k}": batch.indicator_pounds[:, k] for k in range(indicators)},
            "aef_total": batch.aef_total,
            "floor_percent": batch.floor_percent,
        }
    ).lazy()
    rows = settled_rows(
        scenarios.join(council_frame(inputs).lazy(), how="cross"), indicators, float(inputs.taxbase.sum()), "scenario"
    )
    per_council = rows.group_by("council").agg(
        pl.col("pct").sum().alias("sum"),
        pl.col("pct").min().alias("low"),
        pl.col("pct").max().alias("high"),
        (pl.col("topup") >= batches.FLOOR_EPSILON).sum().alias("on_floor"),
    )
    bins = rows.group_by("council", "bin").len()
    summary, counts = pl.collect_all([per_council.sort("council"), bins])
    councils = len(inputs.councils)
    histogram = np.zeros((councils, HIST_BINS), dtype=np.int64)
    histogram[counts["council"].to_numpy(), counts["bin"].to_numpy()] = counts["len"].to_numpy()
    return Summaries(
        batch.size,
        summary["sum"].to_numpy(),
        summary["low"].to_numpy(),
        summary["high"].to_numpy(),
        summary["on_floor"].to_numpy().astype(np.int64),
        histogram,
    )


def polars_per_scenario_summaries(inputs: Inputs, batch: batches.Batch) -> Summaries:
    """The job one scenario at a time: a polars pipeline per scenario, its % changes then
    added to the running summaries."""
    check_job(batch)
    indicators = len(inputs.indicators)
    councils = council_frame(inputs)
    sum_taxbase = float(inputs.taxbase.sum())
    n = len(inputs.councils)
    sums, lows, highs = np.zeros(n), np.full(n, np.inf), np.full(n, -np.inf)
    on_floor = np.zeros(n, dtype=np.int64)
    histogram = np.zeros((n, HIST_BINS), dtype=np.int64)
    for j in range(batch.size):
        scenario = councils.with_columns(
            *(pl.lit(batch.indicator_pounds[j, k]).alias(f"pounds_{k}") for k in range(indicators)),
            pl.lit(batch.aef_total[j]).alias("aef_total"),
            pl.lit(batch.floor_percent[j]).alias("floor_percent"),
        )
        settled = settled_rows(scenario.lazy(), indicators, sum_taxbase, None).collect()
        if settled.height == 0:
            continue
        pct = settled["pct"].to_numpy()
        sums += pct
        np.minimum(lows, pct, out=lows)
        np.maximum(highs, pct, out=highs)
        on_floor += settled["topup"].to_numpy() >= batches.FLOOR_EPSILON
        histogram[np.arange(n), settled["bin"].to_numpy()] += 1
    return Summaries(batch.size, sums, lows, highs, on_floor, histogram)


# --------------------------------------------------------------------------- the run


def median_time(function, repeats: int) -> float:
    """Median wall time of ``repeats`` runs, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# The steps of a bench run, for a progress bar: compiling, then each contender.
BENCH_STEPS = ("compile", "numba_all_cores", "numba_one_core", "numpy", "polars_query", "polars_per_scenario")


def run_bench(dataset: Dataset | None = None, scenarios: int = 2_000_000, repeats: int = 5, progress=None) -> dict:
    """Settlements per second for the five contenders, and their ratios.

    numba runs all ``scenarios``; NumPy a tenth, the polars query a fiftieth (at most
    200,000) and polars per scenario 200, each the first scenarios of the same batch.
    ``progress(step)`` is called as each of BENCH_STEPS begins.
    """
    progress = progress or (lambda step: None)
    raise_if(bench_option_problems(scenarios))
    inputs = to_inputs(dataset or load_dataset())
    big = bench_batch(inputs, scenarios)
    sizes = {
        "numpy": max(scenarios // 10, 1000),
        "polars_query": min(max(scenarios // 50, 1000), 200_000),
        "polars_per_scenario": 200,
    }
    progress("compile")
    numba_summaries(inputs, big.part(0, 64))  # compile (or load the cached compilation) first
    threads = numba.get_num_threads()
    progress("numba_all_cores")
    rates = {"numba_all_cores": scenarios / median_time(lambda: numba_summaries(inputs, big), repeats)}
    numba.set_num_threads(1)
    try:
        progress("numba_one_core")
        rates["numba_one_core"] = scenarios / median_time(lambda: numba_summaries(inputs, big), repeats)
    finally:
        numba.set_num_threads(threads)
    contenders = {
        "numpy": numpy_summaries,
        "polars_query": polars_query_summaries,
        "polars_per_scenario": polars_per_scenario_summaries,
    }
    for name, contender in contenders.items():
        progress(name)
        part = big.part(0, sizes[name])
        rates[name] = sizes[name] / median_time(partial(contender, inputs, part), repeats)
    return {
        "scenarios": scenarios,
        "threads": threads,
        **rates,
        "ratio_numba_to_numpy": rates["numba_all_cores"] / rates["numpy"],
        "ratio_one_core_to_numpy": rates["numba_one_core"] / rates["numpy"],
        "ratio_numba_to_polars_query": rates["numba_all_cores"] / rates["polars_query"],
        "ratio_numba_to_polars": rates["numba_all_cores"] / rates["polars_per_scenario"],
        "ratio_all_to_one_core": rates["numba_all_cores"] / rates["numba_one_core"],
    }
