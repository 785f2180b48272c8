"""Why one council gets what it gets: its IBAs, indicator shares and the steps from SSA to AEF."""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

from dsg.analysis.names import council_index, council_problems
from dsg.errors import InputError
from dsg.formula import kernels
from dsg.formula.arrays import indicator_values, per_unit, population_values, service_ibas, to_inputs
from dsg.formula.dataset import Dataset
from dsg.formula.settle import Allocation

# The steps from SSA to AEF, in order: the kernel's fields up to RSG.
STEPS = kernels.FIELDS[: kernels.FIELD["rsg"] + 1]


@dataclass(frozen=True)
class Explanation:
    """One council's settlement taken apart.

    ``services``: service, name_cy, iba, share (of the Wales total), per_head, wales_per_head, index.
    ``indicators``: indicator, value, share, population_share, ratio, and the £ the
    formula shares by it across all services (``pounds``) and the council's part of those.
    ``steps``: the SSA-to-AEF lines (key, amount, per_head), the calibration residual
    (the fixed element) among them.
    """

    allocation: Allocation
    ons_code: str
    name_en: str
    name_cy: str
    population: float | None
    services: pl.DataFrame
    indicators: pl.DataFrame
    steps: pl.DataFrame
    figures: dict

    def name(self, lang: str) -> str:
        return self.name_cy if lang == "cy" else self.name_en


def find_council(dataset: Dataset, query: str) -> int:
    """Index of the council named by ``query``; raises :class:`InputError` if none is."""
    index = council_index(dataset, query)
    if index is None:
        raise InputError(council_problems(dataset, query))
    return index


def explain(allocation: Allocation, council: str) -> Explanation:
    """Take one council's settlement apart (see :class:`Explanation`)."""
    index = find_council(allocation.dataset, council)
    dataset = allocation.dataset
    inputs = to_inputs(dataset)
    record = allocation.councils.row(index, named=True)
    # Per-head figures and "share against population" need the dataset's population_indicator.
    heads = population_values(dataset)
    population = float(heads[index]) if heads is not None else None
    population_share = float(heads[index] / heads.sum()) if heads is not None else None
    wales_population = float(heads.sum()) if heads is not None else None

    def per_head(amount: float) -> float | None:
        value = float(per_unit(amount, population))
        return None if math.isnan(value) else value

    ibas = service_ibas(inputs)
    services = pl.DataFrame(
        {
            "service": list(inputs.services),
            "name_cy": dataset.services["name_cy"].to_list(),
            "iba": ibas[:, index],
            "share": ibas[:, index] / inputs.service_totals,
            "per_head": [per_head(v) for v in ibas[:, index]],
            "wales_per_head": [t / wales_population if wales_population else None for t in inputs.service_totals],
        }
    ).with_columns(
        (pl.col("share") / population_share if population_share else pl.lit(None, dtype=pl.Float64)).alias("index")
    )

    indicator_pounds = inputs.indicator_pounds
    indicators = pl.DataFrame(
        {
            "indicator": list(inputs.indicators),
            "value": [float(indicator_values(dataset, k)[index]) for k in inputs.indicators],
            "share": inputs.shares[:, index],
            "pounds": indicator_pounds,
            "council_pounds": indicator_pounds * inputs.shares[:, index],
        }
    ).with_columns(
        pl.lit(population_share, dtype=pl.Float64).alias("population_share"),
        (pl.col("share") / population_share if population_share else pl.lit(None, dtype=pl.Float64)).alias("ratio"),
    )

    fixed = float(inputs.fixed[index])
    lines = [("iba_total", float(ibas[:, index].sum())), ("fixed", fixed)]
    lines += [(key, float(record[key])) for key in STEPS]
    lines += [("base_aef", float(record["base_aef"])), ("change", float(record["change"]))]
    steps = pl.DataFrame(
        {
            "key": [k for k, _ in lines],
            "amount": [v for _, v in lines],
            "per_head": [per_head(v) for _, v in lines],
        }
    )
    figures = {
        "pct_change": float(record["pct_change"]),
        "rank": int(record["rank"]),
        "notional_band_d": allocation.notional_band_d,
        "taxbase": float(inputs.taxbase[index]),
        "population": population,
        "population_share": population_share,
        "floor_percent": dataset.settlement.floor_percent,
        "floor_level": dataset.settlement.floor_level(float(record["base_aef"])),
    }
    return Explanation(
        allocation=allocation,
        ons_code=record["ons_code"],
        name_en=record["name_en"],
        name_cy=record["name_cy"],
        population=population,
        services=services,
        indicators=indicators,
        steps=steps,
        figures=figures,
    )


@dataclass(frozen=True)
class ExplainedChange:
    """One council before (a baseline) and after (a scenario or another dataset).

    ``services``: service, name_cy, before, after, change (the council's IBA of each).
    ``indicators``: indicator, share_before, share_after, before, after, change (the £ each
    indicator brings the council, over all services).
    ``steps``: key, before, after, change (SSA through assumed council tax, floor and cap to AEF).
    ``causes``: cause, amount: the decomposition of the council's change in AEF, adding up to it.
    """

    before: Explanation
    after: Explanation
    baseline_label: str
    scenario_label: str
    method: str
    services: pl.DataFrame
    indicators: pl.DataFrame
    steps: pl.DataFrame
    causes: pl.DataFrame


# The steps shown before and after: what moves a council's AEF.
CHANGE_STEPS = ("iba_total", "fixed", *kernels.FIELDS[: kernels.FIELD["aef"] + 1])


def side_by_side(before: pl.DataFrame, after: pl.DataFrame, key: str, value: str, keep=(), absent=0.0) -> pl.DataFrame:
    """Two explanations' rows matched by ``key``, ``value`` before and after, and the change;
    a service or an indicator one side lacks has ``absent`` there (£0; a share is unknown)."""
    left = before.select(key, *keep, pl.col(value).alias("before"))
    right = after.select(key, *keep, pl.col(value).alias("after"))
    joined = left.join(right, on=key, how="full", coalesce=True, maintain_order="left_right", suffix="_after")
    for column in keep:
        joined = joined.with_columns(pl.coalesce(column, f"{column}_after").alias(column)).drop(f"{column}_after")
    if absent is not None:
        joined = joined.with_columns(pl.col("before", "after").fill_null(absent))
    return joined.with_columns((pl.col("after") - pl.col("before")).alias("change"))


def explain_change(
    before: Explanation, after: Explanation, decomposition, baseline_label: str, scenario_label: str
) -> ExplainedChange:
    """Set two explanations of one council side by side, with its row of ``decomposition``
    (a :class:`dsg.analysis.decompose.Decomposition` of the same two settlements)."""
    services = side_by_side(before.services, after.services, "service", "iba", keep=("name_cy",))
    shares = side_by_side(before.indicators, after.indicators, "indicator", "share", absent=None).select(
        "indicator", pl.col("before").alias("share_before"), pl.col("after").alias("share_after")
    )
    pounds = side_by_side(before.indicators, after.indicators, "indicator", "council_pounds")
    indicators = shares.join(pounds, on="indicator", maintain_order="left")
    steps = side_by_side(before.steps, after.steps, "key", "amount").filter(pl.col("key").is_in(CHANGE_STEPS))
    row = decomposition.parts.filter(pl.col("ons_code") == after.ons_code).row(0, named=True)
    causes = pl.DataFrame(
        {
            "cause": [*decomposition.causes, "total"],
            "amount": [float(row[c]) for c in (*decomposition.causes, "total")],
        },
        schema={"cause": pl.String, "amount": pl.Float64},
    )
    return ExplainedChange(
        before, after, baseline_label, scenario_label, decomposition.method, services, indicators, steps, causes
    )
