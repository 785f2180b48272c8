"""Who gains and who loses: a baseline settlement against one or more scenarios (SPEC §7).

A council's gain is counted on its net change, AEF and specific grants together: a council
that loses a £5m grant and gains £3m of AEF has lost £2m.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import polars as pl

from dsg.errors import Problem
from dsg.formula.arrays import per_unit, service_ibas, to_inputs, unit_counts
from dsg.formula.dataset import Dataset
from dsg.formula.params import CHANGE_POUNDS, on_floor
from dsg.formula.settle import Allocation
from dsg.grants.moves import council_grants
from dsg.i18n import name_of

# Long-table columns, in order.
COMPARISON_COLUMNS = (
    "scenario",
    "ons_code",
    "council",
    "region",
    "aef_baseline",
    "aef",
    "difference",
    "pct_difference",
    "floor_topup_baseline",
    "floor_topup",
    "rank_baseline",
    "rank",
    "rank_change",
    "grants_baseline",
    "grants",
    "net_difference",
    "difference_per_head",
    "difference_per_band_d",
)
MONEY = (
    "aef_baseline",
    "aef",
    "difference",
    "floor_topup_baseline",
    "floor_topup",
    "grants_baseline",
    "grants",
    "net_difference",
)


@cache
def regions() -> pl.DataFrame:
    """Council -> region (the four Corporate Joint Committee areas), with its source."""
    data = resources.files("dsg.data").joinpath("regions.csv").read_bytes()
    return pl.read_csv(io.BytesIO(data), infer_schema=False)


def region_names(codes: list[str], lang: str) -> list[str]:
    """Each council's region in ``lang``; a council outside the list is in "Other"."""
    names = dict(zip(regions()["ons_code"].to_list(), regions()[f"region_{lang}"].to_list()))
    other = name_of("words", "region_other", lang)
    return [names.get(code, other) for code in codes]


@dataclass(frozen=True)
class Comparison:
    """A baseline allocation and scenario allocations of the same councils."""

    baseline: Allocation
    scenarios: tuple[Allocation, ...]
    baseline_label: str
    labels: tuple[str, ...]

    def long_table(self, lang: str = "en") -> pl.DataFrame:
        """One row per scenario and council (COMPARISON_COLUMNS)."""
        base = self.baseline.councils
        dataset = self.baseline.dataset
        grants_baseline = council_grants(dataset)
        counts = unit_counts(dataset)
        frames = []
        for label, allocation in zip(self.labels, self.scenarios):
            scenario = allocation.councils
            difference = scenario["aef"].to_numpy() - base["aef"].to_numpy()
            grants = council_grants(allocation.dataset)
            per_head = per_unit(difference, counts.get("per_head"))
            per_band_d = per_unit(difference, counts["per_band_d"])
            frames.append(
                pl.DataFrame(
                    {
                        "scenario": [label] * base.height,
                        "ons_code": base["ons_code"],
                        "council": base[f"name_{lang}"],
                        "region": region_names(base["ons_code"].to_list(), lang),
                        "aef_baseline": base["aef"],
                        "aef": scenario["aef"],
                        "difference": difference,
                        "pct_difference": 100.0 * difference / base["aef"].to_numpy(),
                        "floor_topup_baseline": base["floor_topup"],
                        "floor_topup": scenario["floor_topup"],
                        "rank_baseline": base["rank"],
                        "rank": scenario["rank"],
                        "rank_change": base["rank"] - scenario["rank"],
                        "grants_baseline": grants_baseline,
                        "grants": grants,
                        "net_difference": difference + grants - grants_baseline,
                        "difference_per_head": per_head,
                        "difference_per_band_d": per_band_d,
                    }
                ).with_columns(pl.col("difference_per_head", "difference_per_band_d").fill_nan(None))
            )
        return pl.concat(frames)

    def scenario_table(self, index: int, lang: str = "en", sort: str = "order") -> pl.DataFrame:
        """One scenario's rows, sorted by council order, £ difference or % difference (largest gain first)."""
        table = self.long_table(lang).filter(pl.col("scenario") == self.labels[index])
        if sort == "difference":
            return table.sort("difference", descending=True, maintain_order=True)
        if sort == "pct":
            return table.sort("pct_difference", descending=True, maintain_order=True)
        return table

    def by_region(self, lang: str = "en") -> pl.DataFrame:
        """Totals per scenario and region, regions in council order of first appearance."""
        return (
            self.long_table(lang)
            .group_by("scenario", "region", maintain_order=True)
            .agg(
                pl.col("aef_baseline").sum(),
                pl.col("aef").sum(),
                pl.col("difference").sum(),
                pl.col("floor_topup").sum(),
                pl.col("grants_baseline").sum(),
                pl.col("grants").sum(),
                pl.col("net_difference").sum(),
                pl.len().alias("councils"),
            )
            .with_columns((100.0 * pl.col("difference") / pl.col("aef_baseline")).alias("pct_difference"))
        )

    def wales_summary(self, lang: str = "en") -> list[dict]:
        """Per scenario: totals, floor cost, councils gaining / losing (on the net change, AEF
        and grants together) and on the floor, and the largest net gain and loss."""
        summaries = []
        for index, (label, allocation) in enumerate(zip(self.labels, self.scenarios)):
            table = self.scenario_table(index, lang)
            net = table["net_difference"]
            highest, lowest = net.arg_max(), net.arg_min()
            assert highest is not None and lowest is not None  # a table has at least one council
            gain = table.row(highest, named=True)
            loss = table.row(lowest, named=True)
            # Nobody gaining (or losing) has no largest gain (or loss).
            none = name_of("words", "none", lang)
            gain_council, gain_value = (
                (gain["council"], gain["net_difference"]) if gain["net_difference"] >= CHANGE_POUNDS else (none, 0.0)
            )
            loss_council, loss_value = (
                (loss["council"], loss["net_difference"]) if loss["net_difference"] <= -CHANGE_POUNDS else (none, 0.0)
            )
            aef_baseline, aef = float(table["aef_baseline"].sum()), float(table["aef"].sum())
            summaries.append(
                {
                    "scenario": label,
                    "aef_baseline": aef_baseline,
                    "aef": aef,
                    "difference": aef - aef_baseline,
                    "pct_difference": 100.0 * (aef - aef_baseline) / aef_baseline,
                    "grants_baseline": float(table["grants_baseline"].sum()),
                    "grants": float(table["grants"].sum()),
                    "net_difference": float(net.sum()),
                    "floor_cost_baseline": self.baseline.floor_cost,
                    "floor_cost": allocation.floor_cost,
                    "gaining": int((net >= CHANGE_POUNDS).sum()),
                    "losing": int((net <= -CHANGE_POUNDS).sum()),
                    "on_floor": int(on_floor(table["floor_topup"]).sum()),
                    "largest_gain_council": gain_council,
                    "largest_gain": gain_value,
                    "largest_loss_council": loss_council,
                    "largest_loss": loss_value,
                }
            )
        return summaries

    @property
    def moves_grants(self) -> bool:
        """Whether any side's specific grants differ from the baseline's."""
        before = council_grants(self.baseline.dataset)
        return any(not np.array_equal(council_grants(a.dataset), before) for a in self.scenarios)

    def iba_table(self, lang: str = "en") -> pl.DataFrame:
        """Each side's IBA per service and council, the fixed element and SSA."""
        frames = []
        for label, allocation in [(self.baseline_label, self.baseline), *zip(self.labels, self.scenarios)]:
            inputs = to_inputs(allocation.dataset)
            values = service_ibas(inputs)
            names = allocation.dataset.service_names(lang)
            frames.append(
                allocation.councils.select("ons_code", pl.col(f"name_{lang}").alias("council"))
                .with_columns(pl.lit(label).alias("scenario"))
                .with_columns(
                    *(pl.Series(name, values[s]) for s, name in enumerate(names)),
                    pl.Series("fixed", inputs.fixed),
                    allocation.councils["ssa"],
                )
                .select("scenario", "ons_code", "council", *names, "fixed", "ssa")
            )
        return pl.concat(frames, how="diagonal")

    def indicator_table(self, lang: str = "en") -> pl.DataFrame:
        """The indicators any side uses, one column each, by council (the baseline's values)."""
        used: list[str] = []
        for allocation in (self.baseline, *self.scenarios):
            settlement = allocation.dataset.settlement
            used += [*allocation.dataset.weights["indicator"].to_list(), *settlement.indicators().values()]
        used = list(dict.fromkeys(used))
        dataset = self.baseline.dataset
        wide = dataset.indicators.filter(pl.col("indicator").is_in(used)).pivot(
            on="indicator", index="ons_code", values="value"
        )
        return (
            dataset.councils.select("ons_code", pl.col(f"name_{lang}").alias("council"))
            .join(wide, on="ons_code", how="left")
            .select("ons_code", "council", *[k for k in used if k in wide.columns])
        )


def side_label(path, allocation: Allocation, dataset: Dataset) -> str:
    """How a side is named: the dataset's name for the dataset itself or another dataset
    folder, else the scenario's name, else its file name."""
    if path is None or str(path) == "default":
        return dataset.name
    if Path(path).is_dir():
        return allocation.dataset.name if allocation.dataset.name != dataset.name else Path(path).name
    return allocation.dataset.provenance.get("scenario_name") or Path(path).stem


def council_problems(baseline: Allocation, others: list[Allocation], paths: list[str]) -> list[Problem]:
    """Sides of a comparison must hold the same councils, in the same order."""
    codes = baseline.dataset.council_codes
    return [
        Problem(path, "different_councils", params={"expected": ", ".join(codes)})
        for path, allocation in zip(paths, others)
        if allocation.dataset.council_codes != codes
    ]


def unique_labels(labels: list[str]) -> list[str]:
    """Labels made unique by numbering repeats, so each scenario can be told apart."""
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        unique.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return unique
