"""Plain NumPy reference of SPEC §3, written to be read beside the SPEC, line by line.

It exists so that tests can check the numba kernels against an independent reading of
the equations (the kernel works with £ per indicator; this works service by service),
and as the vectorised baseline in benchmarks. It is not used to produce results.
"""

from __future__ import annotations

import numpy as np

from dsg.formula.arrays import Inputs
from dsg.formula.kernels import (
    FIELDS,
    FLOOR_NOT_SELF_FUNDABLE,
    FUNDING_SLACK_POUNDS,
    FUNDING_SLACK_SHARE,
    NEGATIVE_BAND_D,
    OK,
    RANK_DECIMALS,
)


def reference_settlement(inputs: Inputs, indicator_values: np.ndarray | None = None) -> dict:
    """SPEC §3 for one scenario; returns every per-council field and the Wales scalars.

    ``indicator_values`` (indicators x councils) may replace ``inputs.shares`` to check
    step 1 too; by default the shares are used as they are.
    """
    x = inputs.shares if indicator_values is None else indicator_values
    A, w, F, B, b = inputs.service_totals, inputs.weights, inputs.fixed, inputs.taxbase, inputs.base

    # 1. shares
    share = x / x.sum(axis=1, keepdims=True)
    # 2. IBAs and SSA
    iba = A[:, None] * (w @ share)
    ssa = iba.sum(axis=0) + F
    # 3. notional Band D
    if np.isnan(inputs.notional_band_d):
        aef_total = inputs.aef_total
        t = (ssa.sum() - aef_total) / B.sum()
    else:
        t = inputs.notional_band_d
        aef_total = ssa.sum() - t * B.sum()
    # 4. assumed council tax, formula AEF
    assumed_council_tax = t * B
    aef_formula = ssa - assumed_council_tax
    # 5. floor and cap
    has_floor, has_cap = not np.isnan(inputs.floor_percent), not np.isnan(inputs.cap_percent)
    lo = b * (1 + inputs.floor_percent / 100) if has_floor else np.full_like(b, -np.inf)
    hi = b * (1 + inputs.cap_percent / 100) if has_cap else np.full_like(b, np.inf)
    floor_topup = np.maximum(0, lo - aef_formula) if has_floor else np.zeros_like(b)
    cap_reduction = np.maximum(0, aef_formula - hi) if has_cap else np.zeros_like(b)
    lam = 0.0
    if inputs.self_funded and has_floor:
        e = np.maximum(0, np.minimum(aef_formula, hi) - lo)
        need = max(0.0, floor_topup.sum() - cap_reduction.sum())
        lam = 0.0 if need == 0 else (need / e.sum() if e.sum() > 0 else np.inf)
        # Need beyond the gains by float noise only (kernels.within_slack): everything is taken.
        lam = 1.0 if lam > 1 and need - e.sum() <= min(FUNDING_SLACK_POUNDS, FUNDING_SLACK_SHARE * need) else lam
        # An infinite rate (nothing above the floor to take from) is refused below.
        self_funding = lam * e if np.isfinite(lam) else np.zeros_like(b)
    else:
        self_funding = np.zeros_like(b)
    aef = aef_formula + floor_topup - cap_reduction - self_funding
    # 6. NDR and RSG
    P = inputs.ndr_share
    ndr = inputs.ndr_pool * P / P.sum()
    rsg = aef - ndr
    # 7. change, % change, rank
    change = aef - b
    pct_change = 100 * change / b
    council_order = np.arange(len(b))
    order = np.lexsort((council_order, -np.round(pct_change, RANK_DECIMALS)))
    rank = np.empty_like(b)
    rank[order] = np.arange(1, len(b) + 1)

    status = OK
    if t < 0:
        status = NEGATIVE_BAND_D
    elif lam > 1:
        status = FLOOR_NOT_SELF_FUNDABLE
    fields = {
        "ssa": ssa,
        "assumed_council_tax": assumed_council_tax,
        "aef_formula": aef_formula,
        "floor_topup": floor_topup,
        "cap_reduction": cap_reduction,
        "self_funding": self_funding,
        "aef": aef,
        "ndr": ndr,
        "rsg": rsg,
        "change": change,
        "pct_change": pct_change,
        "rank": rank,
    }
    assert tuple(fields) == FIELDS
    return {
        **fields,
        "notional_band_d": t,
        "aef_total": aef_total,
        "floor_cost": floor_topup.sum() - cap_reduction.sum() - self_funding.sum(),
        "self_funding_rate": lam,
        "status": status,
    }


def reference_batch(inputs: Inputs, batch) -> dict:
    """SPEC §3 for N scenarios at once, vectorised with NumPy (scenarios x councils).

    The benchmark's NumPy baseline and the batch kernel's test oracle: every step is a whole-
    array operation over all scenarios; no Python loop over scenarios.
    """
    shares = batch.shares if batch.shares.ndim == 3 else batch.shares[None, :, :]
    ssa = np.einsum("nk,nki->ni", batch.indicator_pounds, np.broadcast_to(shares, (batch.size, *shares.shape[1:])))
    ssa = ssa + inputs.fixed
    B, b = inputs.taxbase, inputs.base
    given = ~np.isnan(batch.notional_band_d)
    t = np.where(given, batch.notional_band_d, (ssa.sum(axis=1) - batch.aef_total) / B.sum())
    aef_formula = ssa - t[:, None] * B
    has_floor = ~np.isnan(batch.floor_percent)
    has_cap = ~np.isnan(batch.cap_percent)
    lo = np.where(has_floor[:, None], b * (1 + np.nan_to_num(batch.floor_percent)[:, None] / 100), -np.inf)
    hi = np.where(has_cap[:, None], b * (1 + np.nan_to_num(batch.cap_percent)[:, None] / 100), np.inf)
    floor_topup = np.maximum(0, lo - aef_formula)
    cap_reduction = np.maximum(0, aef_formula - hi)
    gain = np.where(has_floor[:, None], np.maximum(0, np.minimum(aef_formula, hi) - lo), 0.0)
    need = np.maximum(0, floor_topup.sum(axis=1) - cap_reduction.sum(axis=1))
    gains = gain.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.where(need > 0, np.where(gains > 0, need / gains, np.inf), 0.0)
    lam = np.where(batch.self_funded & has_floor, lam, 0.0)
    slack = np.minimum(FUNDING_SLACK_POUNDS, FUNDING_SLACK_SHARE * need)
    lam = np.where((lam > 1) & (need - gains <= slack), 1.0, lam)  # float noise
    usable = np.where(lam <= 1, lam, 0.0)  # an impossible floor is refused, not applied
    self_funding = usable[:, None] * gain
    aef = aef_formula + floor_topup - cap_reduction - self_funding
    status = np.where(t < 0, NEGATIVE_BAND_D, np.where(lam > 1, FLOOR_NOT_SELF_FUNDABLE, OK))
    return {
        "aef": aef,
        "floor_topup": floor_topup,
        "pct_change": 100 * (aef - b) / b,
        "status": status.astype(float),
    }
