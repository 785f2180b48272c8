"""Many settlements at once: a numba kernel, on every core, that keeps only what was asked for.

A batch is N scenarios of one dataset that differ in their £ per indicator (weights and
service totals), ``aef_total``, floor and cap, and optionally in their indicator shares.
:func:`settle_many` returns the council x scenario AEF matrix (small N); :func:`summarise`
streams through any N in chunks and keeps per-council summaries of the % change (sum for the
mean, min, max, a fixed-bin histogram for percentiles, count on the floor), so memory does
not grow with N.

Determinism: scenarios are cut into chunks, each chunk into a fixed number of blocks, and
partial sums are added in block order, so the results do not depend on the number of threads.
Random inputs (Monte Carlo) come from dsg.formula.draws, keyed by (seed, scenario index).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dsg.formula import kernels
from dsg.formula.arrays import Inputs
from dsg.formula.compiled import in_threads, jit, thread_count
from dsg.formula.kernels import implausible, in_order
from dsg.formula.params import ON_FLOOR_POUNDS

# % change histogram: this range, in bins of HIST_WIDTH percentage points. Values outside
# land in the edge bins (min and max are kept exactly).
# The bins start a ten-millionth of a point below -50 %, so that a % change on a bin's edge
# (a council held at a 2.8 % floor, whose float figure is 2.8 give or take 1e-13) always falls
# in the bin that starts there, not the one below.
HIST_NUDGE = 1e-7
HIST_LOW, HIST_HIGH, HIST_WIDTH = -50.0 - HIST_NUDGE, 50.0, 0.01
HIST_BINS = int(round((HIST_HIGH - HIST_LOW) / HIST_WIDTH))  # 10,000
HIST_SCALE = 1.0 / HIST_WIDTH  # bins per percentage point (100): a product, not a division
# Blocks per chunk: fixed, so that the order of partial sums never depends on threads.
BLOCKS = 64
# Summaries keep the full matrix up to this many scenarios x councils.
MATRIX_LIMIT = 5_000_000
FLOOR_EPSILON = ON_FLOOR_POUNDS  # the one "on the floor" threshold, as a constant numba can read
# A status settle_many gives beside the kernel's (kernels.OK, NEGATIVE_BAND_D,
# FLOOR_NOT_SELF_FUNDABLE): the settlement ran, but a figure is not finite or is beyond
# RESULT_LIMIT, so it must be refused like an impossible one (SPEC §6).
IMPLAUSIBLE = 3


@dataclass(frozen=True)
class Batch:
    """Per-scenario inputs of a batch (leading axis N); ``shares`` is (K, n) or (N, K, n)."""

    shares: np.ndarray
    indicator_pounds: np.ndarray
    aef_total: np.ndarray
    notional_band_d: np.ndarray
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
        "floor_percent": np.full(n, inputs.floor_percent),
        "cap_percent": np.full(n, inputs.cap_percent),
        "self_funded": np.full(n, inputs.self_funded),
    }
    values.update(changes)
    return Batch(**values)


# Scenarios settled side by side in one tile: councils in the outer loop and the lanes in the
# inner one, so that each step is the same arithmetic on many numbers at once (SIMD). Wide
# tiles suit Wales; with hundreds of councils a tile's per-council arrays must stay in cache
# (measured on one core with 48 indicators: 64 lanes settle 2,000 councils 10 % faster than 32
# and 50 % faster than 128, and 200 councils 15 % faster than 32).
WIDE_LANES, NARROW_LANES, WIDE_UP_TO = 128, 64, 100


def lane_count(councils: int) -> int:
    return WIDE_LANES if councils <= WIDE_UP_TO else NARROW_LANES


# The slots' histograms together (one slot: a thread's share of the work) take at most this
# much memory when they can; with many councils fewer slots run in parallel rather than
# exhaust memory (one slot always runs, whatever its size).
HISTOGRAM_BUDGET = 512 * 2**20


# The bin of a lane whose settlement is not counted: one past the last, never scattered.
NO_BIN = HIST_BINS


@jit(cache=True, nogil=True)
def settle_slot(
    slot,
    slots,
    sum_taxbase,
    scale,
    shares,
    per_scenario_shares,
    pounds,
    fixed,
    taxbase,
    base,
    aef_total,
    notional_band_d,
    floor_percent,
    cap_percent,
    self_funded,
    keep_matrix,
    lanes,
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
    """Settle slot ``slot``'s share of a batch, ``lanes`` scenarios at a time: of the batch's
    BLOCKS blocks, blocks slot, slot + slots, ... in order (slots run side by side, see
    :func:`run_kernel`).

    With ``keep_matrix``, each scenario's AEF, floor top-up and % change go into the
    (councils x N) arrays and its status into ``status``. Otherwise the kernel writes
    sums[b, i] of % change per block b (summed by the caller in block order: float sums never
    depend on the number of slots) and adds to the slot's lows, highs, on_floor,
    histogram[slot, i, bin] and failed (exact whatever the order). Impossible settlements
    are left out of the summaries.

    Per scenario, the arithmetic is that of :func:`dsg.formula.kernels.settle_into`, step by
    step and in the same order, so AEFs and % changes are the same to the last bit.
    ``pounds`` is the £ per indicator, indicators x N; ``sum_taxbase`` is the tax base's
    sum in council order and ``scale`` is 100 / base.
    """
    n_indicators, n_scenarios = pounds.shape
    n_councils = base.shape[0]
    ssa = np.empty((n_councils, lanes))
    tile_pounds = np.empty((n_indicators, lanes))
    band_d = np.empty(lanes)
    floor_factor = np.empty(lanes)
    cap_factor = np.empty(lanes)
    has_floor = np.empty(lanes, dtype=np.bool_)
    sum_ssa = np.empty(lanes)
    sum_topup = np.empty(lanes)
    sum_cap = np.empty(lanes)
    sum_gain = np.empty(lanes)
    rate = np.empty(lanes)
    lane_status = np.empty(lanes, dtype=np.int64)
    bins = np.empty(lanes, dtype=np.uint64)
    lane_sums = np.zeros((n_councils, lanes))
    lane_lows = np.full((n_councils, lanes), np.inf)
    lane_highs = np.full((n_councils, lanes), -np.inf)
    lane_on_floor = np.zeros((n_councils, lanes), dtype=np.int64)
    for block in range(slot, BLOCKS, slots):
        first = block * n_scenarios // BLOCKS
        stop = (block + 1) * n_scenarios // BLOCKS
        for start in range(first, stop, lanes):
            m = min(lanes, stop - start)
            # The tile's inputs as views from 0: indexing floor_percent[start + lane], numba
            # allows for a negative index, and LLVM gathers lane by lane instead of loading.
            stop_tile = start + m
            floors, caps, funded = (
                floor_percent[start:stop_tile],
                cap_percent[start:stop_tile],
                self_funded[start:stop_tile],
            )
            given_band_d, totals = notional_band_d[start:stop_tile], aef_total[start:stop_tile]
            for k in range(n_indicators):
                row = pounds[k, start:stop_tile]
                for lane in range(m):
                    tile_pounds[k, lane] = row[lane]
            # A loop of its own, with no loop inside and no branches, so that LLVM vectorises it.
            self_funded_lanes = 0
            for lane in range(m):
                has_floor[lane] = floors[lane] == floors[lane]  # not NaN
                # No floor: a floor at -inf gives no top-up; no cap: a cap at +inf cuts nothing.
                floor_factor[lane] = 1.0 + floors[lane] / 100.0 if has_floor[lane] else -np.inf
                cap_factor[lane] = 1.0 + caps[lane] / 100.0 if caps[lane] == caps[lane] else np.inf
                self_funded_lanes += 1 if funded[lane] & has_floor[lane] else 0
                sum_ssa[lane] = 0.0
                sum_topup[lane] = 0.0
                sum_cap[lane] = 0.0
                sum_gain[lane] = 0.0
                rate[lane] = 0.0
            any_self_funded = self_funded_lanes > 0
            # SPEC §3.2: SSA = fixed element + £ per indicator x shares.
            for i in range(n_councils):
                if per_scenario_shares:
                    for lane in range(m):
                        ssa[i, lane] = fixed[i]
                    for k in range(n_indicators):
                        for lane in range(m):
                            ssa[i, lane] += tile_pounds[k, lane] * shares[start + lane, k, i]
                else:
                    # Four indicators per pass over the lanes, added left to right: the very
                    # sum of kernels.settle_into, one indicator after another, with a quarter
                    # of the loads and stores. The fixed element is held in a local (as the
                    # council's figures are below): for all LLVM knows, a store to ssa could
                    # change fixed[i], and it would not vectorise the loop.
                    council_fixed = fixed[i]
                    k = 0
                    if n_indicators >= 4:
                        s0, s1, s2, s3 = shares[0, 0, i], shares[0, 1, i], shares[0, 2, i], shares[0, 3, i]
                        for lane in range(m):
                            ssa[i, lane] = (
                                council_fixed
                                + tile_pounds[0, lane] * s0
                                + tile_pounds[1, lane] * s1
                                + tile_pounds[2, lane] * s2
                                + tile_pounds[3, lane] * s3
                            )
                        k = 4
                    else:
                        for lane in range(m):
                            ssa[i, lane] = council_fixed
                    while k + 4 <= n_indicators:
                        s0, s1, s2, s3 = shares[0, k, i], shares[0, k + 1, i], shares[0, k + 2, i], shares[0, k + 3, i]
                        for lane in range(m):
                            ssa[i, lane] = (
                                ssa[i, lane]
                                + tile_pounds[k, lane] * s0
                                + tile_pounds[k + 1, lane] * s1
                                + tile_pounds[k + 2, lane] * s2
                                + tile_pounds[k + 3, lane] * s3
                            )
                        k += 4
                    while k < n_indicators:
                        share = shares[0, k, i]
                        for lane in range(m):
                            ssa[i, lane] += tile_pounds[k, lane] * share
                        k += 1
                for lane in range(m):
                    sum_ssa[lane] += ssa[i, lane]
            # SPEC §3.3.
            refused_lanes = 0
            for lane in range(m):
                given = given_band_d[lane]
                band_d[lane] = (sum_ssa[lane] - totals[lane]) / sum_taxbase if given != given else given
                lane_status[lane] = kernels.NEGATIVE_BAND_D if band_d[lane] < 0.0 else kernels.OK
                refused_lanes += 1 if band_d[lane] < 0.0 else 0
            if any_self_funded:
                # The self-funding rate needs every council's top-up and gain first.
                for i in range(n_councils):
                    for lane in range(m):
                        formula = ssa[i, lane] - band_d[lane] * taxbase[i]
                        low = base[i] * floor_factor[lane]
                        high = base[i] * cap_factor[lane]
                        sum_topup[lane] += max(0.0, low - formula)
                        sum_cap[lane] += max(0.0, formula - high)
                        sum_gain[lane] += max(0.0, min(formula, high) - low) if has_floor[lane] else 0.0
                for lane in range(m):
                    if funded[lane] and has_floor[lane]:
                        need = max(0.0, sum_topup[lane] - sum_cap[lane])
                        if need > 0.0:
                            rate[lane] = need / sum_gain[lane] if sum_gain[lane] > 0.0 else np.inf
                            slack = min(kernels.FUNDING_SLACK_POUNDS, kernels.FUNDING_SLACK_SHARE * need)
                            if rate[lane] > 1.0 and need - sum_gain[lane] <= slack:
                                rate[lane] = 1.0  # kernels.within_slack
                    if rate[lane] > 1.0 and lane_status[lane] == kernels.OK:
                        lane_status[lane] = kernels.FLOOR_NOT_SELF_FUNDABLE
                        refused_lanes += 1
            # SPEC §3.4-3.7, and the summaries, council by council: each council's
            # histogram row stays in cache while its lanes are counted. Sums, bounds and
            # counts are kept per lane so that the lanes stay independent (SIMD).
            all_ok = refused_lanes == 0
            for i in range(n_councils):
                council_base, council_taxbase, council_scale = base[i], taxbase[i], scale[i]
                if keep_matrix or any_self_funded or not all_ok:
                    for lane in range(m):
                        formula = ssa[i, lane] - band_d[lane] * council_taxbase
                        low = council_base * floor_factor[lane]
                        high = council_base * cap_factor[lane]
                        topup = max(0.0, low - formula)
                        settled = min(max(formula, low), high)  # see kernels.protect
                        if rate[lane] > 0.0 and rate[lane] <= 1.0:
                            settled -= rate[lane] * max(0.0, min(formula, high) - low)
                        pct = (settled - council_base) * council_scale
                        if keep_matrix:  # council-major: each council's lanes side by side
                            aef[i, start + lane] = settled
                            floor_topup[i, start + lane] = topup
                            pct_change[i, start + lane] = pct
                        else:
                            # The summaries of the common case below, of settled lanes only:
                            # one not counted gets NO_BIN, and a NaN % change makes the sum
                            # NaN (the summary is then refused) and counts in bin 0.
                            counted = lane_status[lane] == kernels.OK
                            lane_sums[i, lane] += pct if counted else 0.0
                            lane_lows[i, lane] = min(lane_lows[i, lane], pct) if counted else lane_lows[i, lane]
                            lane_highs[i, lane] = max(lane_highs[i, lane], pct) if counted else lane_highs[i, lane]
                            lane_on_floor[i, lane] += 1 if counted and topup >= FLOOR_EPSILON else 0
                            position = np.floor((pct - HIST_LOW) * HIST_SCALE) if pct == pct else 0.0
                            bins[lane] = np.uint64(min(max(position, 0.0), HIST_BINS - 1.0)) if counted else NO_BIN
                else:
                    # The common case, without branches: an external floor (or none),
                    # every lane settled, each lane's figures tallied as soon as settled.
                    for lane in range(m):
                        formula = ssa[i, lane] - band_d[lane] * council_taxbase
                        low = council_base * floor_factor[lane]
                        topup = max(0.0, low - formula)
                        settled = min(max(formula, low), council_base * cap_factor[lane])
                        pct = (settled - council_base) * council_scale
                        # Sums, bounds and counts per lane, and the lane's histogram bin:
                        # unsigned, so that numba indexes the histogram without a check for
                        # negative indices. (Written out here and above: a helper inlined by
                        # numba kept LLVM from vectorising.)
                        lane_sums[i, lane] += pct
                        lane_lows[i, lane] = min(lane_lows[i, lane], pct)
                        lane_highs[i, lane] = max(lane_highs[i, lane], pct)
                        lane_on_floor[i, lane] += 1 if topup >= FLOOR_EPSILON else 0
                        # np.floor, not math.floor: numba's math.floor gives an integer, and
                        # the round trip through it cost a twentieth of the kernel's time.
                        position = np.floor((pct - HIST_LOW) * HIST_SCALE) if pct == pct else 0.0
                        bins[lane] = np.uint64(min(max(position, 0.0), HIST_BINS - 1.0))
                if keep_matrix:
                    continue
                # Scattered council by council, so that the council's row stays in cache.
                row = histogram[slot, i]
                if all_ok:
                    for lane in range(m):
                        row[bins[lane]] += 1
                else:
                    for lane in range(m):
                        if bins[lane] != NO_BIN:
                            row[bins[lane]] += 1
            for lane in range(m):
                if keep_matrix:
                    status[start + lane] = lane_status[lane]
                elif lane_status[lane] != kernels.OK:
                    failed[slot] += 1
        if not keep_matrix:
            # The block's sum, lane by lane in a fixed order.
            for i in range(n_councils):
                total = 0.0
                for lane in range(lanes):
                    total += lane_sums[i, lane]
                    lane_sums[i, lane] = 0.0
                sums[block, i] = total
    if not keep_matrix:
        for i in range(n_councils):
            for lane in range(lanes):
                lows[slot, i] = min(lows[slot, i], lane_lows[i, lane])
                highs[slot, i] = max(highs[slot, i], lane_highs[i, lane])
                on_floor[slot, i] += lane_on_floor[i, lane]


def kernel_shares(batch: Batch) -> tuple[np.ndarray, bool]:
    """Shares in the kernel's layout: always 3-D, with a flag for one set per scenario."""
    if batch.shares.ndim == 3:
        return np.ascontiguousarray(batch.shares), True
    return np.ascontiguousarray(batch.shares[None, :, :]), False


def settle_many(inputs: Inputs, batch: Batch) -> dict[str, np.ndarray]:
    """AEF, floor top-up and % change (N x councils) and status (N) of every scenario."""
    n, councils = batch.size, len(inputs.councils)
    # Written council by council (see settle_slot), handed back scenario by scenario.
    matrices = {name: np.empty((councils, n)) for name in ("aef", "floor_topup", "pct_change")}
    result: dict[str, np.ndarray] = {name: matrix.T for name, matrix in matrices.items()}
    result["status"] = np.empty(n)
    slots = slot_count(councils, bins=0)
    run_kernel(
        inputs,
        batch,
        True,
        matrices["aef"],
        matrices["floor_topup"],
        matrices["pct_change"],
        result["status"],
        np.empty((BLOCKS, 0)),
        np.empty((slots, 0)),
        np.empty((slots, 0)),
        np.empty((slots, 0), dtype=np.int64),
        np.empty((slots, 0, 0), dtype=np.int32),
        np.empty(slots, dtype=np.int64),
    )
    figures = np.stack([result[name] for name in ("aef", "floor_topup", "pct_change")])
    bad = (result["status"] == kernels.OK) & implausible(figures).any(axis=(0, 2))
    result["status"][bad] = IMPLAUSIBLE
    return result


def slot_count(councils: int, bins: int = HIST_BINS) -> int:
    """How many parallel slots a run uses: one per thread, fewer when the slots' histograms
    would pass :data:`HISTOGRAM_BUDGET` (thousands of councils)."""
    per_slot = max(councils * bins * 4, 1)
    return max(1, min(thread_count(), HISTOGRAM_BUDGET // per_slot))


def run_kernel(inputs: Inputs, batch: Batch, keep_matrix: bool, *outputs) -> None:
    """Settle a batch into ``outputs`` (see :func:`settle_slot`), its slots on as many threads."""
    shares, per_scenario = kernel_shares(batch)
    # Indicator by indicator (indicators x N), so that a tile's lanes read £ per indicator
    # along memory: no copy when the batch was drawn that way (Monte Carlo), one in NumPy
    # otherwise, rather than a scalar transposing loop in the kernel.
    pounds = np.ascontiguousarray(batch.indicator_pounds.T)
    lows = outputs[5]  # one row per slot (see settle_slot's parameters)
    slots = lows.shape[0]
    sum_taxbase, scale = in_order(inputs.taxbase), 100.0 / inputs.base

    def settle_part(slot: int) -> None:
        settle_slot(
            slot,
            slots,
            sum_taxbase,
            scale,
            shares,
            per_scenario,
            pounds,
            inputs.fixed,
            inputs.taxbase,
            inputs.base,
            batch.aef_total,
            batch.notional_band_d,
            batch.floor_percent,
            batch.cap_percent,
            batch.self_funded,
            keep_matrix,
            lane_count(len(inputs.councils)),
            *outputs,
        )

    in_threads(settle_part, slots)


@dataclass
class Summary:
    """Per-council summaries of % change over a batch (streamed).

    Each parallel slot keeps its own bounds, counts and histogram, made once for the whole
    run and merged when read; the sums of % change are added block by block, in order.
    """

    councils: int
    count: int = 0
    # 1 once a settled % change was not finite or beyond RESULT_LIMIT: the summary is then
    # not to be shown (dsg.analysis.robustness refuses it).
    implausible: int = 0
    slots: int = 0
    # Made by __post_init__ for ``councils`` and ``slots``.
    sums: np.ndarray = field(init=False)
    slot_lows: np.ndarray = field(init=False)
    slot_highs: np.ndarray = field(init=False)
    slot_on_floor: np.ndarray = field(init=False)
    slot_histogram: np.ndarray = field(init=False)
    histogram_total: np.ndarray = field(init=False)
    unflushed: int = field(init=False)
    slot_failed: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.slots = self.slots or slot_count(self.councils)
        shape = (self.slots, self.councils)
        self.sums = np.zeros(self.councils)
        self.slot_lows = np.full(shape, np.inf)
        self.slot_highs = np.full(shape, -np.inf)
        self.slot_on_floor = np.zeros(shape, dtype=np.int64)
        # 32-bit counts in the slots, half the memory of 64 (what keeps thousands of councils
        # in cache), added into 64-bit totals before any bin could pass 2^31 (see FLUSH_AT).
        self.slot_histogram = np.zeros((*shape, HIST_BINS), dtype=np.int32)
        self.histogram_total = np.zeros((self.councils, HIST_BINS), dtype=np.int64)
        self.unflushed = 0
        self.slot_failed = np.zeros(self.slots, dtype=np.int64)

    @property
    def failed(self) -> int:
        return int(self.slot_failed.sum())

    @property
    def lows(self) -> np.ndarray:
        return self.slot_lows.min(axis=0)

    @property
    def highs(self) -> np.ndarray:
        return self.slot_highs.max(axis=0)

    @property
    def on_floor(self) -> np.ndarray:
        return self.slot_on_floor.sum(axis=0)

    @property
    def histogram(self) -> np.ndarray:
        return self.histogram_total + self.slot_histogram.sum(axis=0, dtype=np.int64)

    def flush(self) -> None:
        """Move the slots' 32-bit counts into the 64-bit totals."""
        self.histogram_total += self.slot_histogram.sum(axis=0, dtype=np.int64)
        self.slot_histogram[...] = 0
        self.unflushed = 0

    @property
    def mean(self) -> np.ndarray:
        return self.sums / max(self.count - self.failed, 1)

    @property
    def probability_on_floor(self) -> np.ndarray:
        return self.on_floor / max(self.count - self.failed, 1)

    def percentile(self, p: float) -> np.ndarray:
        """The p-th percentile of each council's % change, as the lower edge of the bin it
        falls in, rounded to the bin width: never above the true value."""
        cumulative = np.cumsum(self.histogram, axis=1)
        target = np.ceil(p / 100 * cumulative[:, -1]).clip(min=1)
        positions = np.argmax(cumulative >= target[:, None], axis=1)
        return np.round(HIST_LOW + positions * HIST_WIDTH, BIN_DECIMALS) + 0.0  # + 0.0: no -0.0


# Decimals of a bin edge: the bin width is 0.01 percentage points.
BIN_DECIMALS = 2


def summarise_chunk(inputs: Inputs, batch: Batch, summary: Summary) -> None:
    """Add one chunk of scenarios to a summary (block partials added in block order)."""
    if summary.unflushed + batch.size > FLUSH_AT:
        summary.flush()
    sums = np.empty((BLOCKS, summary.councils))
    run_kernel(
        inputs,
        batch,
        False,
        NO_MATRIX,
        NO_MATRIX,
        NO_MATRIX,
        NO_STATUS,
        sums,
        summary.slot_lows,
        summary.slot_highs,
        summary.slot_on_floor,
        summary.slot_histogram,
        summary.slot_failed,
    )
    # A sum that is not finite, or a bound beyond the limit (bounds still at inf / -inf are
    # councils no settled scenario has reached yet), comes from an implausible settlement.
    lows, highs = summary.slot_lows, summary.slot_highs
    reached = np.isfinite(lows) | np.isfinite(highs)
    if not np.isfinite(sums).all() or (reached & (implausible(lows) | implausible(highs))).any():
        summary.implausible = 1
    for block in range(BLOCKS):
        summary.sums += sums[block]
    summary.count += batch.size
    summary.unflushed += batch.size


# A slot's bin holds at most as many counts as scenarios settled since the last flush.
FLUSH_AT = 2**31 - 1
NO_MATRIX = np.empty((0, 0))
NO_STATUS = np.empty(0)


def summarise(inputs: Inputs, batches, progress=None) -> Summary:
    """Stream chunks (an iterable of Batch) into one Summary; ``progress(n)`` after each."""
    summary = Summary(len(inputs.councils))
    for batch in batches:
        summarise_chunk(inputs, batch, summary)
        if progress is not None:
            progress(batch.size)
    return summary
