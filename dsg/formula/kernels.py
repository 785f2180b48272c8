"""One settlement (SPEC §3) over plain arrays, in NumPy; the constants every engine shares.

One settlement takes microseconds, so it is computed here in NumPy, and a command that
settles a few scenarios (run, compare, explain) never pays for numba's import and the
loading of compiled code. Many settlements at once run in the numba kernel of
:mod:`dsg.formula.batch`, which does each scenario's arithmetic in the same order as this
code: their AEFs and % changes agree to the last bit (tests/test_batch.py), and both are
checked against the independent reading of the SPEC in :mod:`dsg.formula.reference`.

Sums over councils are taken one council after another (``np.cumsum``, never NumPy's pairwise
``sum``), as the batch kernel takes them. Per-council results go into rows of an ``out``
array (see the ``FIELD`` indices); per-scenario results into ``scalars`` (see ``SCALAR``).
"""

from __future__ import annotations

import math

import numpy as np

from dsg.formula.params import RESULT_LIMIT

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

# A self-funded floor whose need passes the gains by no more than FUNDING_SLACK_POUNDS, and
# no more than FUNDING_SLACK_SHARE of the need, is float noise on an exactly fundable floor,
# and its rate is 1: at totals of £1e15 a share alone would hide real money, and for sums of
# a few pounds half a penny alone would.
FUNDING_SLACK_POUNDS = 0.005
FUNDING_SLACK_SHARE = 1e-9


def within_slack(need, gains):
    """Whether a need above the gains is only float noise (see FUNDING_SLACK_POUNDS)."""
    return need - gains <= min(FUNDING_SLACK_POUNDS, FUNDING_SLACK_SHARE * need)


# pct_change is ranked after rounding to this many decimals so that councils held
# exactly at the floor tie despite float noise (SPEC §3.7).
RANK_DECIMALS = 9


def implausible(values: np.ndarray) -> np.ndarray:
    """Where figures are not finite or beyond :data:`RESULT_LIMIT` (never shown or written)."""
    with np.errstate(invalid="ignore"):
        return ~(np.abs(values) <= RESULT_LIMIT)


def in_order(values: np.ndarray) -> float:
    """The sum of ``values`` taken one after another, as the batch kernel's loops take it."""
    return float(np.cumsum(values)[-1]) if values.size else 0.0


def protect(formula, base, floor_percent, cap_percent, self_funded, topup, cap_reduction, self_funding, protected):
    """Floor and cap (SPEC §3.5) of ``formula`` against ``base``, written into the last four
    arrays; ``protected`` is the result, formula + top-up - cap reduction - self-funding.

    This is the one implementation of a floor for a single settlement: the settlement uses it
    against the adjusted base, and grant consolidation uses it (self-funded, no cap) for
    transitional protection. Returns (self-funding rate, sum of top-ups, sum of cap
    reductions); a rate above 1 (or infinite) means the floor cannot be self-funded, and
    self_funding is then left at 0.

    ``protected`` is computed as the formula held between floor and cap, less the
    self-funding: the same in exact arithmetic as adding the top-up, but a council on the
    floor lands on it exactly even when its formula figure is a billion times larger.
    """
    has_floor = not math.isnan(floor_percent)
    has_cap = not math.isnan(cap_percent)
    low = base * (1.0 + floor_percent / 100.0) if has_floor else np.full_like(base, -np.inf)
    high = base * (1.0 + cap_percent / 100.0) if has_cap else np.full_like(base, np.inf)
    if has_floor:
        np.maximum(0.0, low - formula, out=topup)
        # Gain above the floor and below the cap: what a self-funded floor may take back.
        np.maximum(0.0, np.minimum(formula, high) - low, out=self_funding)
    else:
        topup[:] = 0.0
        self_funding[:] = 0.0
    if has_cap:
        np.maximum(0.0, formula - high, out=cap_reduction)
    else:
        cap_reduction[:] = 0.0
    sum_topup, sum_cap, sum_gain = in_order(topup), in_order(cap_reduction), in_order(self_funding)
    rate = 0.0
    if self_funded and has_floor:
        need = max(0.0, sum_topup - sum_cap)
        if need > 0.0:
            rate = need / sum_gain if sum_gain > 0.0 else math.inf
            if rate > 1.0 and within_slack(need, sum_gain):
                rate = 1.0
    if rate <= 1.0:
        self_funding *= rate
    else:
        self_funding[:] = 0.0
    np.maximum(formula, low, out=protected)
    np.minimum(protected, high, out=protected)
    protected -= self_funding
    return rate, sum_topup, sum_cap


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
):
    n_indicators = shares.shape[0]

    # SPEC §3.2: SSA = fixed element + IBAs (as £ per indicator times shares), indicator by
    # indicator in the batch kernel's order.
    ssa = out[SSA]
    ssa[:] = fixed
    for k in range(n_indicators):
        ssa += indicator_pounds[k] * shares[k]
    sum_ssa = in_order(ssa)
    sum_taxbase = in_order(taxbase)

    # SPEC §3.3: one of aef_total and notional Band D fixes the other.
    if math.isnan(notional_band_d):
        band_d = (sum_ssa - aef_total) / sum_taxbase
        total = aef_total
    else:
        band_d = notional_band_d
        total = sum_ssa - band_d * sum_taxbase
    status = NEGATIVE_BAND_D if band_d < 0.0 else OK

    # SPEC §3.4.
    np.multiply(band_d, taxbase, out=out[ASSUMED_COUNCIL_TAX])
    np.subtract(ssa, out[ASSUMED_COUNCIL_TAX], out=out[AEF_FORMULA])

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
        out[AEF],
    )
    if rate > 1.0 and status == OK:
        status = FLOOR_NOT_SELF_FUNDABLE

    # SPEC §3.6-3.7.
    aef = out[AEF]
    np.multiply(ndr_pool, ndr_share, out=out[NDR])
    np.subtract(aef, out[NDR], out=out[RSG])
    np.subtract(aef, base, out=out[CHANGE])
    # As a product with 100 / base, the form the batch kernel hoists out of its loops.
    np.multiply(out[CHANGE], 100.0 / base, out=out[PCT_CHANGE])

    # Rank 1 = largest pct_change; a stable sort keeps ties in council order.
    order = np.argsort(-np.round(out[PCT_CHANGE], RANK_DECIMALS), kind="stable")
    out[RANK, order] = np.arange(1.0, len(order) + 1.0)

    scalars[BAND_D] = band_d
    scalars[TOTAL] = total
    scalars[FLOOR_COST] = sum_topup - sum_cap - in_order(out[SELF_FUNDING])
    scalars[LAMBDA] = rate
    scalars[STATUS] = status
