"""Many settlements at once: a parallel numba kernel that keeps only what was asked for.

A batch is N scenarios of one dataset that differ in their £ per indicator (weights and
service totals), ``aef_total``, floor and cap, and optionally in their indicator shares.
:func:`settle_many` returns the council x scenario AEF matrix (small N); :func:`summarise`
streams through any N in chunks and keeps per-council summaries of the % change (sum for the
mean, min, max, a fixed-bin histogram for percentiles, count on the floor), so memory does
not grow with N.

Determinism: scenarios are cut into chunks, each chunk into a fixed number of blocks, and
partial sums are added in block order, so the results do not depend on the number of threads.
Random inputs (Monte Carlo) are drawn per chunk from a generator seeded by (seed, chunk).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

from dsg.formula import kernels
from dsg.formula.arrays import Inputs
from dsg.formula.kernels import jit
from dsg.formula.params import ON_FLOOR_POUNDS, RESULT_LIMIT

if os.environ.get("DSG_DISABLE_JIT", "") not in ("", "0"):
    prange = range
else:
    from numba import prange

# % change histogram: this range, in bins of HIST_WIDTH percentage points. Values outside
# land in the edge bins (min and max are kept exactly).
HIST_LOW, HIST_HIGH, HIST_WIDTH = -50.0, 50.0, 0.01
HIST_BINS = int(round((HIST_HIGH - HIST_LOW) / HIST_WIDTH))
# Blocks per chunk: fixed, so that the order of partial sums never depends on threads.
BLOCKS = 16
DEFAULT_CHUNK = 65_536
# Summaries keep the full matrix up to this many scenarios x councils.
MATRIX_LIMIT = 5_000_000
FLOOR_EPSILON = ON_FLOOR_POUNDS  # the one "on the floor" threshold, as a constant numba can read
# A status settle_many gives beside the kernel's (kernels.OK, NEGATIVE_BAND_D,
# FLOOR_NOT_SELF_FUNDABLE): the settlement ran, but a figure is not finite or is beyond
# RESULT_LIMIT, so it must be refused like an impossible one (SPEC §6).
IMPLAUSIBLE = 3


def implausible(values: np.ndarray) -> np.ndarray:
    """Where figures are not finite or beyond :data:`RESULT_LIMIT` (never shown or written)."""
    with np.errstate(invalid="ignore"):
        return ~(np.abs(values) <= RESULT_LIMIT)


@dataclass(frozen=True)
class Batch:
    """Per-scenario inputs of a batch (leading axis N); ``shares`` is (K, n) or (N, K, n)."""

    shares: np.ndarray
    indicator_pounds: np.ndarray
    aef_total: np.ndarray
    notional_band_d: np.ndarray
    ndr_pool: np.ndarray
    floor_percent: np.ndarray
    cap_percent: np.ndarray
    self_funded: np.ndarray

    @property
    def size(self) -> int:
        return self.indicator_pounds.shape[0]

    def part(self, start: int, stop: int) -> Batch:
        shares = self.shares[start:stop] if self.shares.ndim == 3 else self.shares
        return Batch(shares, *(getattr(self, f)[start:stop] for f in BATCH_FIELDS[1:]))


BATCH_FIELDS = (
    "shares",
    "indicator_pounds",
    "aef_total",
    "notional_band_d",
    "ndr_pool",
    "floor_percent",
    "cap_percent",
    "self_funded",
)


def repeat(inputs: Inputs, n: int, **changes) -> Batch:
    """A batch of ``n`` copies of one settlement's inputs, with some fields replaced."""
    values = {
        "shares": inputs.shares,
        "indicator_pounds": np.tile(inputs.indicator_pounds, (n, 1)),
        "aef_total": np.full(n, inputs.aef_total),
        "notional_band_d": np.full(n, inputs.notional_band_d),
        "ndr_pool": np.full(n, inputs.ndr_pool),
        "floor_percent": np.full(n, inputs.floor_percent),
        "cap_percent": np.full(n, inputs.cap_percent),
        "self_funded": np.full(n, inputs.self_funded),
    }
    values.update(changes)
    return Batch(**values)


@jit(cache=True, nogil=True, parallel=True)
def batch_kernel(
    shares,
    per_scenario_shares,
    indicator_pounds,
    fixed,
    taxbase,
    base,
    ndr_share,
    aef_total,
    notional_band_d,
    ndr_pool,
    floor_percent,
    cap_percent,
    self_funded,
    keep_matrix,
    aef,
    floor_topup,
    pct_change,
    status,
    sums,
    lows,
    highs,
    on_floor,
    histogram,
    failed,
):
    """Settle every scenario of a batch, in BLOCKS contiguous blocks run in parallel.

    With ``keep_matrix``, each scenario's AEF, floor top-up, % change and status go into the
    (N x councils) arrays; otherwise per block b: sums[b, i] of % change, lows/highs,
    on_floor counts, histogram[b, i, bin] and failed[b] (impossible settlements, left out).
    """
    n_scenarios = indicator_pounds.shape[0]
    n_councils = base.shape[0]
    for block in prange(BLOCKS):
        out = np.empty((len(kernels.FIELDS), n_councils))
        scalars = np.empty(len(kernels.SCALARS))
        for j in range(block * n_scenarios // BLOCKS, (block + 1) * n_scenarios // BLOCKS):
            share = shares[j] if per_scenario_shares else shares[0]
            kernels.settle_into(
                share,
                indicator_pounds[j],
                fixed,
                taxbase,
                base,
                ndr_share,
                aef_total[j],
                notional_band_d[j],
                ndr_pool[j],
                floor_percent[j],
                cap_percent[j],
                self_funded[j],
                out,
                scalars,
                False,
            )
            if keep_matrix:
                for i in range(n_councils):
                    aef[j, i] = out[kernels.AEF, i]
                    floor_topup[j, i] = out[kernels.FLOOR_TOPUP, i]
                    pct_change[j, i] = out[kernels.PCT_CHANGE, i]
                status[j] = scalars[kernels.STATUS]
                continue
            if scalars[kernels.STATUS] != kernels.OK:
                failed[block] += 1
                continue
            for i in range(n_councils):
                pct = out[kernels.PCT_CHANGE, i]
                sums[block, i] += pct
                if pct < lows[block, i]:
                    lows[block, i] = pct
                if pct > highs[block, i]:
                    highs[block, i] = pct
                if out[kernels.FLOOR_TOPUP, i] >= FLOOR_EPSILON:
                    on_floor[block, i] += 1
                position = int(math.floor((pct - HIST_LOW) / HIST_WIDTH))
                position = min(max(position, 0), HIST_BINS - 1)
                histogram[block, i, position] += 1


def kernel_shares(batch: Batch) -> tuple[np.ndarray, bool]:
    """Shares in the kernel's layout: always 3-D, with a flag for one set per scenario."""
    if batch.shares.ndim == 3:
        return np.ascontiguousarray(batch.shares), True
    return np.ascontiguousarray(batch.shares[None, :, :]), False


def settle_many(inputs: Inputs, batch: Batch) -> dict[str, np.ndarray]:
    """AEF, floor top-up and % change (N x councils) and status (N) of every scenario."""
    n, councils = batch.size, len(inputs.councils)
    result: dict[str, np.ndarray] = {name: np.empty((n, councils)) for name in ("aef", "floor_topup", "pct_change")}
    result["status"] = np.empty(n)
    run_kernel(
        inputs,
        batch,
        True,
        result["aef"],
        result["floor_topup"],
        result["pct_change"],
        result["status"],
        *block_accumulators(councils, 0),
    )
    figures = np.stack([result[name] for name in ("aef", "floor_topup", "pct_change")])
    bad = (result["status"] == kernels.OK) & implausible(figures).any(axis=(0, 2))
    result["status"][bad] = IMPLAUSIBLE
    return result


def block_accumulators(councils: int, bins: int = HIST_BINS) -> tuple[np.ndarray, ...]:
    """Per-block partial summaries (sums, lows, highs, on_floor, histogram, failed)."""
    return (
        np.zeros((BLOCKS, councils)),
        np.full((BLOCKS, councils), np.inf),
        np.full((BLOCKS, councils), -np.inf),
        np.zeros((BLOCKS, councils), dtype=np.int64),
        np.zeros((BLOCKS, councils, bins), dtype=np.int32),
        np.zeros(BLOCKS, dtype=np.int64),
    )


def run_kernel(inputs: Inputs, batch: Batch, keep_matrix: bool, *outputs) -> None:
    shares, per_scenario = kernel_shares(batch)
    batch_kernel(
        shares,
        per_scenario,
        batch.indicator_pounds,
        inputs.fixed,
        inputs.taxbase,
        inputs.base,
        inputs.ndr_share,
        batch.aef_total,
        batch.notional_band_d,
        batch.ndr_pool,
        batch.floor_percent,
        batch.cap_percent,
        batch.self_funded,
        keep_matrix,
        *outputs,
    )


@dataclass
class Summary:
    """Per-council summaries of % change over a batch (streamed)."""

    councils: int
    count: int = 0
    failed: int = 0
    # Chunks in which a settled % change was not finite or beyond RESULT_LIMIT: the summary
    # is then not to be shown (dsg.analysis.robustness refuses it).
    implausible: int = 0
    # Made empty by __post_init__ for ``councils``.
    sums: np.ndarray = field(init=False)
    lows: np.ndarray = field(init=False)
    highs: np.ndarray = field(init=False)
    on_floor: np.ndarray = field(init=False)
    histogram: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.sums = np.zeros(self.councils)
        self.lows = np.full(self.councils, np.inf)
        self.highs = np.full(self.councils, -np.inf)
        self.on_floor = np.zeros(self.councils, dtype=np.int64)
        self.histogram = np.zeros((self.councils, HIST_BINS), dtype=np.int64)

    @property
    def mean(self) -> np.ndarray:
        return self.sums / max(self.count - self.failed, 1)

    @property
    def probability_on_floor(self) -> np.ndarray:
        return self.on_floor / max(self.count - self.failed, 1)

    def percentile(self, p: float) -> np.ndarray:
        """The p-th percentile of each council's % change, to the histogram's bin width
        (the bin's middle), clipped to the exact min and max."""
        cumulative = np.cumsum(self.histogram, axis=1)
        target = np.ceil(p / 100 * cumulative[:, -1]).clip(min=1)
        positions = np.argmax(cumulative >= target[:, None], axis=1)
        middle = HIST_LOW + (positions + 0.5) * HIST_WIDTH
        return np.clip(middle, self.lows, self.highs)


def summarise_chunk(inputs: Inputs, batch: Batch, summary: Summary) -> None:
    """Add one chunk of scenarios to a summary (block partials added in block order)."""
    councils = len(inputs.councils)
    sums, lows, highs, on_floor, histogram, failed = block_accumulators(councils)
    no_matrix = np.empty((0, councils))
    run_kernel(
        inputs,
        batch,
        False,
        no_matrix,
        no_matrix,
        no_matrix,
        np.empty(0),
        sums,
        lows,
        highs,
        on_floor,
        histogram,
        failed,
    )
    # Blocks without a settled scenario keep their starting inf / -inf; any other bound or sum
    # that is not finite, or beyond the limit, comes from an implausible settlement.
    settled = np.isfinite(lows) | np.isfinite(highs)
    if not np.isfinite(sums).all() or (settled & (implausible(lows) | implausible(highs))).any():
        summary.implausible += 1
    for block in range(BLOCKS):
        summary.sums += sums[block]
    summary.lows = np.minimum(summary.lows, lows.min(axis=0))
    summary.highs = np.maximum(summary.highs, highs.max(axis=0))
    summary.on_floor += on_floor.sum(axis=0)
    summary.histogram += histogram.sum(axis=0)
    summary.failed += int(failed.sum())
    summary.count += batch.size


def summarise(inputs: Inputs, batches, progress=None) -> Summary:
    """Stream chunks (an iterable of Batch) into one Summary; ``progress(n)`` after each."""
    summary = Summary(len(inputs.councils))
    for batch in batches:
        summarise_chunk(inputs, batch, summary)
        if progress is not None:
            progress(batch.size)
    return summary
