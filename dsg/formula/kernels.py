"""numba kernels of the settlement (SPEC §3), over plain arrays only.

One inner function, :func:`settle_into`, computes one settlement; every entry point
(a single run, the batch kernel in dsg.formula.batch) calls it, so the floor and cap logic
exist once. ``DSG_DISABLE_JIT=1`` runs the same code as plain Python, for debugging
and for coverage.

Per-council results go into rows of an ``out`` array (see the ``FIELD`` indices);
per-scenario results into ``scalars`` (see ``SCALAR``).
"""

from __future__ import annotations

import math
import os

import numpy as np

if os.environ.get("DSG_DISABLE_JIT", "") not in ("", "0"):

    def jit(*args, **kwargs):
        return lambda function: function

else:
    from numba import njit as jit

# Rows of the per-council output, in SPEC §4 order.
FIELDS = (
    "ssa",
    "assumed_council_tax",
    "aef_formula",
    "floor_topup",
    "cap_reduction",
    "self_funding",
    "aef",
    "ndr",
    "rsg",
    "change",
    "pct_change",
    "rank",
)
FIELD = {name: index for index, name in enumerate(FIELDS)}
(
    SSA,
    ASSUMED_COUNCIL_TAX,
    AEF_FORMULA,
    FLOOR_TOPUP,
    CAP_REDUCTION,
    SELF_FUNDING,
    AEF,
    NDR,
    RSG,
    CHANGE,
    PCT_CHANGE,
    RANK,
) = range(len(FIELDS))

SCALARS = ("notional_band_d", "aef_total", "floor_cost", "self_funding_rate", "status")
SCALAR = {name: index for index, name in enumerate(SCALARS)}
BAND_D, TOTAL, FLOOR_COST, LAMBDA, STATUS = range(len(SCALARS))

# Status codes: the kernel cannot raise, so it reports what the caller must refuse.
OK = 0
NEGATIVE_BAND_D = 1
FLOOR_NOT_SELF_FUNDABLE = 2

# A self-funding rate this close above 1 is float noise on an exactly fundable floor.
RATE_TOLERANCE = 1e-9

# pct_change is ranked after rounding to this many decimals so that councils held
# exactly at the floor tie despite float noise (SPEC §3.7).
RANK_DECIMALS = 9


@jit(cache=True, nogil=True)
def protect(formula, base, floor_percent, cap_percent, self_funded, topup, cap_reduction, self_funding):
    """Floor and cap (SPEC §3.5) of ``formula`` against ``base``, written into the last three arrays.

    This is the one implementation of a floor: the settlement uses it against the adjusted
    base, and grant consolidation uses it (self-funded, no cap) for transitional protection.
    Returns (self-funding rate, sum of top-ups, sum of cap reductions); a rate above 1
    (or infinite) means the floor cannot be self-funded, and self_funding is then left at 0.
    """
    has_floor = not math.isnan(floor_percent)
    has_cap = not math.isnan(cap_percent)
    sum_topup = 0.0
    sum_cap = 0.0
    sum_gain = 0.0
    for i in range(formula.shape[0]):
        low = base[i] * (1.0 + floor_percent / 100.0) if has_floor else -np.inf
        high = base[i] * (1.0 + cap_percent / 100.0) if has_cap else np.inf
        topup[i] = max(0.0, low - formula[i]) if has_floor else 0.0
        cap_reduction[i] = max(0.0, formula[i] - high) if has_cap else 0.0
        # Gain above the floor and below the cap: what a self-funded floor may take back.
        self_funding[i] = max(0.0, min(formula[i], high) - low) if has_floor else 0.0
        sum_topup += topup[i]
        sum_cap += cap_reduction[i]
        sum_gain += self_funding[i]
    rate = 0.0
    if self_funded and has_floor:
        need = max(0.0, sum_topup - sum_cap)
        if need > 0.0:
            rate = need / sum_gain if sum_gain > 0.0 else np.inf
            if 1.0 < rate <= 1.0 + RATE_TOLERANCE:
                rate = 1.0
    for i in range(formula.shape[0]):
        self_funding[i] = rate * self_funding[i] if rate <= 1.0 else 0.0
    return rate, sum_topup, sum_cap


@jit(cache=True, nogil=True)
def settle_into(
    shares,
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
    out,
    scalars,
    with_rank=True,
):
    n_indicators, n_councils = shares.shape

    # SPEC §3.2: SSA = IBAs (as £ per indicator times shares) + fixed element.
    sum_ssa = 0.0
    sum_taxbase = 0.0
    for i in range(n_councils):
        ssa = fixed[i]
        for k in range(n_indicators):
            ssa += indicator_pounds[k] * shares[k, i]
        out[SSA, i] = ssa
        sum_ssa += ssa
        sum_taxbase += taxbase[i]

    # SPEC §3.3: one of aef_total and notional Band D fixes the other.
    if math.isnan(notional_band_d):
        band_d = (sum_ssa - aef_total) / sum_taxbase
        total = aef_total
    else:
        band_d = notional_band_d
        total = sum_ssa - band_d * sum_taxbase
    status = OK
    if band_d < 0.0:
        status = NEGATIVE_BAND_D

    # SPEC §3.4.
    for i in range(n_councils):
        tax = band_d * taxbase[i]
        out[ASSUMED_COUNCIL_TAX, i] = tax
        out[AEF_FORMULA, i] = out[SSA, i] - tax

    # SPEC §3.5, against the adjusted base.
    rate, sum_topup, sum_cap = protect(
        out[AEF_FORMULA],
        base,
        floor_percent,
        cap_percent,
        self_funded,
        out[FLOOR_TOPUP],
        out[CAP_REDUCTION],
        out[SELF_FUNDING],
    )
    if rate > 1.0 and status == OK:
        status = FLOOR_NOT_SELF_FUNDABLE

    # SPEC §3.5-3.7.
    sum_self = 0.0
    for i in range(n_councils):
        sum_self += out[SELF_FUNDING, i]
        aef = out[AEF_FORMULA, i] + out[FLOOR_TOPUP, i] - out[CAP_REDUCTION, i] - out[SELF_FUNDING, i]
        ndr = ndr_pool * ndr_share[i]
        out[AEF, i] = aef
        out[NDR, i] = ndr
        out[RSG, i] = aef - ndr
        out[CHANGE, i] = aef - base[i]
        # As a product with 100 / base, the form the batch kernel hoists out of its loops.
        out[PCT_CHANGE, i] = (aef - base[i]) * (100.0 / base[i])

    # Rank 1 = largest pct_change; a stable sort keeps ties in council order. Batch
    # summaries do not need it, and it is the one allocation in here.
    if with_rank:
        order = np.argsort(-np.round(out[PCT_CHANGE], RANK_DECIMALS), kind="mergesort")
        for position in range(n_councils):
            out[RANK, order[position]] = position + 1.0
    else:
        for i in range(n_councils):
            out[RANK, i] = np.nan

    scalars[BAND_D] = band_d
    scalars[TOTAL] = total
    scalars[FLOOR_COST] = sum_topup - sum_cap - sum_self
    scalars[LAMBDA] = rate
    scalars[STATUS] = status
