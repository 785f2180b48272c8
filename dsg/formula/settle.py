"""One settlement (SPEC §3) of a Dataset, as an :class:`Allocation` (SPEC §4)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from dsg.errors import InputError, Problem, raise_if
from dsg.formula import kernels
from dsg.formula.arrays import Inputs, to_inputs
from dsg.formula.dataset import Dataset
from dsg.formula.kernels import implausible
from dsg.formula.params import RESULT_LIMIT, range_text

# SPEC §4: exactly these columns, first and in this order: the kernel's fields with the
# identity columns in front and the base (an input, not a result) before the change.
_BEFORE_BASE = kernels.FIELDS.index("change")
ALLOCATION_COLUMNS = (
    "ons_code",
    "council",
    *kernels.FIELDS[:_BEFORE_BASE],
    "base_aef",
    *kernels.FIELDS[_BEFORE_BASE:],
)
MONEY_COLUMNS = tuple(c for c in ALLOCATION_COLUMNS if c not in ("ons_code", "council", "pct_change", "rank"))


@dataclass(frozen=True)
class Allocation:
    """The result of one settlement.

    ``councils`` holds one row per council in council order: ``ons_code``, ``name_en``,
    ``name_cy`` and every SPEC §4 figure. The Wales scalars sit beside it.
    """

    dataset: Dataset
    councils: pl.DataFrame
    notional_band_d: float
    aef_total: float
    floor_cost: float
    self_funding_rate: float
    warnings: tuple[Problem, ...] = field(default=())

    def table(self, lang: str = "en") -> pl.DataFrame:
        """The SPEC §4 table, with ``council`` named in ``lang``."""
        return self.councils.with_columns(pl.col(f"name_{lang}").alias("council")).select(ALLOCATION_COLUMNS)

    def wales_totals(self) -> dict[str, float]:
        """Sum over councils of every money column."""
        return {column: float(self.councils[column].sum()) for column in MONEY_COLUMNS}

    def wales_pct_change(self) -> float:
        totals = self.wales_totals()
        return 100.0 * totals["change"] / totals["base_aef"]


def settle_inputs(inputs: Inputs) -> tuple[np.ndarray, np.ndarray]:
    """Run the kernel on one set of inputs: (fields x councils, scalars)."""
    out = np.empty((len(kernels.FIELDS), len(inputs.councils)))
    scalars = np.empty(len(kernels.SCALARS))
    kernels.settle_into(
        inputs.shares,
        inputs.indicator_pounds,
        inputs.fixed,
        inputs.taxbase,
        inputs.base,
        inputs.ndr_share,
        inputs.aef_total,
        inputs.notional_band_d,
        inputs.ndr_pool,
        inputs.floor_percent,
        inputs.cap_percent,
        inputs.self_funded,
        out,
        scalars,
    )
    return out, scalars


class Settler:
    """Settles datasets, each distinct set of inputs once.

    Two datasets that differ only in what the settlement does not read (specific grants,
    names, provenance) share one settlement; ``settlements`` counts the kernel runs.
    """

    def __init__(self) -> None:
        self.results: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
        self.settlements = 0

    def kernel(self, inputs: Inputs) -> tuple[np.ndarray, np.ndarray]:
        key = fingerprint(inputs)
        if key not in self.results:
            self.results[key] = settle_inputs(inputs)
            self.settlements += 1
        return self.results[key]

    def settle(self, dataset: Dataset) -> Allocation:
        return settle(dataset, self)


def fingerprint(inputs: Inputs) -> bytes:
    """A digest of everything the kernel reads."""
    digest = hashlib.sha256()
    for array in (inputs.shares, inputs.indicator_pounds, inputs.fixed, inputs.taxbase, inputs.base, inputs.ndr_share):
        digest.update(np.ascontiguousarray(array).tobytes())
    scalars = (
        inputs.aef_total,
        inputs.notional_band_d,
        inputs.ndr_pool,
        inputs.floor_percent,
        inputs.cap_percent,
        float(inputs.self_funded),
    )
    digest.update(np.array(scalars).tobytes())
    return digest.digest()


# The inputs each figure comes from (SPEC §3), named in the message when a figure is refused.
_SSA = "services.csv, weights.csv, indicators.csv, fixed.csv"
_FORMULA = f"{_SSA}, settlement.aef_total / notional_band_d / taxbase_indicator"
_PROTECTED = f"{_FORMULA}, base.csv, settlement.floor_percent / cap_percent"
FEEDS = {
    "ssa": _SSA,
    "assumed_council_tax": _FORMULA,
    "aef_formula": _FORMULA,
    "ndr": "settlement.ndr_pool / ndr_indicator, indicators.csv",
    "rsg": f"{_PROTECTED}, settlement.ndr_pool / ndr_indicator",
    "notional_band_d": _FORMULA,
    "aef_total": _FORMULA,
    **dict.fromkeys(("floor_topup", "cap_reduction", "self_funding", "aef", "change"), _PROTECTED),
    **dict.fromkeys(("pct_change", "rank", "floor_cost", "self_funding_rate"), _PROTECTED),
}
# A self-funding rate at least this large is shown to 3 significant figures (1.25e+129),
# not 3 decimals of a 130-digit number.
FAR_RATE = 1000.0


def result_problems(dataset: Dataset, out: np.ndarray, scalars: np.ndarray) -> list[Problem]:
    """A problem for each field (per council or for Wales) holding a figure that is not finite
    or is beyond :data:`RESULT_LIMIT`, naming the council and the inputs the figure comes from."""
    source = settlement_source(dataset)
    limit = range_text(RESULT_LIMIT)
    codes = dataset.councils["ons_code"].to_list()
    problems = []
    for index, column in enumerate(kernels.FIELDS):
        bad = np.flatnonzero(implausible(out[index]))
        if bad.size:
            # The first council's figure, and the codes of up to five councils that have one.
            council = ", ".join(codes[i] for i in bad[:5]) + (", …" if bad.size > 5 else "")
            params = {"column": column, "value": f"{out[index, bad[0]]:.3g}", "council": council}
            problems.append(
                Problem(
                    source,
                    "implausible_result",
                    key="settlement",
                    params={**params, "limit": limit, "inputs": FEEDS[column]},
                )
            )
    for index in (kernels.BAND_D, kernels.TOTAL, kernels.FLOOR_COST):
        if implausible(scalars[index : index + 1])[0]:
            column = kernels.SCALARS[index]
            params = {"column": column, "value": f"{scalars[index]:.3g}", "limit": limit, "inputs": FEEDS[column]}
            problems.append(Problem(source, "implausible_total", key="settlement", params=params))
    return problems


def largest_floor_need(dataset: Dataset, base: np.ndarray, out: np.ndarray) -> Problem:
    """The council whose floor asks the most, with the figures behind it: a floor out of all
    scale comes from one council's base (base.csv) or formula AEF (fixed.csv, the services),
    and these say which."""
    i = int(np.argmax(out[kernels.FLOOR_TOPUP]))
    code = dataset.council_codes[i]
    folder = dataset.provenance.get("source", dataset.name)
    params = {
        "need": f"{out[kernels.FLOOR_TOPUP, i]:.4g}",
        "base": f"{base[i]:.4g}",
        "formula": f"{out[kernels.AEF_FORMULA, i]:.4g}",
    }
    return Problem(f"{folder}/base.csv", "largest_floor_need", key=code, params=params)


def settlement_source(dataset: Dataset) -> str:
    """The file a settlement problem should be blamed on: the scenario if one was applied."""
    return dataset.provenance.get("scenario_file") or f"{dataset.provenance.get('source', dataset.name)}/dataset.toml"


def settle(dataset: Dataset, settler: Settler | None = None) -> Allocation:
    """Compute SPEC §3 for a dataset (with any scenario already applied).

    Raises :class:`InputError` when the settlement itself is impossible (a negative
    notional Band D, a floor that cannot be self-funded).
    """
    inputs = to_inputs(dataset)
    out, scalars = settler.kernel(inputs) if settler is not None else settle_inputs(inputs)
    status = int(scalars[kernels.STATUS])
    source = settlement_source(dataset)
    if status == kernels.NEGATIVE_BAND_D:
        # A Band D of -1e300 is an input far out of scale: say so, not 300 digits of it.
        raise_if([p for p in result_problems(dataset, out, scalars) if p.params["column"] == "notional_band_d"])
        # The SSA's two parts, so that a fixed element far out of scale is seen for what it is.
        params = {
            "value": scalars[kernels.BAND_D],
            "ssa": f"{out[kernels.SSA].sum():,.0f}",
            "services": f"{inputs.indicator_pounds.sum():,.0f}",
            "fixed": f"{inputs.fixed.sum():,.0f}",
            "aef_total": f"{scalars[kernels.TOTAL]:,.0f}",
        }
        raise InputError([Problem(source, "negative_band_d", key="settlement", params=params)])
    if status == kernels.FLOOR_NOT_SELF_FUNDABLE:
        rate = scalars[kernels.LAMBDA]
        code = "floor_not_self_fundable" if np.isfinite(rate) else "floor_nobody_above"
        code = "floor_far_from_self_fundable" if np.isfinite(rate) and rate >= FAR_RATE else code
        problems = [Problem(source, code, key="settlement.floor_funding", params={"rate": rate})]
        if code == "floor_far_from_self_fundable":
            problems.append(largest_floor_need(dataset, inputs.base, out))
        raise InputError(problems)
    # A figure that is not finite or far beyond any settlement is refused, never returned.
    raise_if(result_problems(dataset, out, scalars))
    figures = {name: out[index] for index, name in enumerate(kernels.FIELDS)}
    figures["rank"] = figures["rank"].astype(np.int64)
    councils = (
        dataset.councils.select("ons_code", "name_en", "name_cy")
        .with_columns(pl.Series(name, values) for name, values in figures.items())
        .with_columns(pl.Series("base_aef", inputs.base))
    )
    warnings = tuple(
        Problem(
            source,
            "negative_rsg",
            key="settlement.ndr_pool",
            params={"council": name if name == name_cy else f"{name} / {name_cy}", "ndr": ndr, "rsg": rsg},
        )
        for name, name_cy, ndr, rsg in councils.select("name_en", "name_cy", "ndr", "rsg").iter_rows()
        if rsg < 0
    )
    return Allocation(
        dataset=dataset,
        councils=councils,
        notional_band_d=float(scalars[kernels.BAND_D]),
        aef_total=float(scalars[kernels.TOTAL]),
        floor_cost=float(scalars[kernels.FLOOR_COST]),
        self_funding_rate=float(scalars[kernels.LAMBDA]),
        warnings=warnings,
    )
