"""Plain NumPy reference of SPEC §3, written to be read beside the SPEC, line by line.

It exists so that tests can check the numba kernels against an independent reading of
the equations (the kernel works with £ per indicator; this works service by service),
and as the vectorised baseline in benchmarks. It is not used to produce results.
"""

from __future__ import annotations

import numpy as np

from dsg.formula.arrays import Inputs
from dsg.formula.kernels import FIELDS, FLOOR_NOT_SELF_FUNDABLE, NEGATIVE_BAND_D, OK, RANK_DECIMALS


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
    fields = dict(
        ssa=ssa, assumed_council_tax=assumed_council_tax, aef_formula=aef_formula, floor_topup=floor_topup,
        cap_reduction=cap_reduction, self_funding=self_funding, aef=aef, ndr=ndr, rsg=rsg, change=change,
        pct_change=pct_change, rank=rank,
    )
    assert tuple(fields) == FIELDS
    return {
        **fields,
        "notional_band_d": t,
        "aef_total": aef_total,
        "floor_cost": floor_topup.sum() - cap_reduction.sum() - self_funding.sum(),
        "self_funding_rate": lam,
        "status": status,
    }
