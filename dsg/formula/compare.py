"""Who gains and who loses: a baseline settlement against one or more scenarios."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import polars as pl

from dsg.errors import InputError, Problem
from dsg.formula.dataset import Dataset, load_dataset
from dsg.formula.scenario import apply_scenario, load_scenario
from dsg.formula.settlement import Allocation, settle
from dsg.i18n import term

# A council gains or loses when its AEF moves by at least half a pound, so float noise
# in an unchanged figure never counts as a change.
CHANGE_THRESHOLD = 0.5

# The positional baseline may name the dataset itself.
DEFAULT_BASELINE = "default"

SORTS = ("order", "difference", "pct")

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
)


@cache
def regions() -> pl.DataFrame:
    """Council -> region (the four Corporate Joint Committee areas), with its source."""
    data = resources.files("dsg.data").joinpath("regions.csv").read_bytes()
    return pl.read_csv(io.BytesIO(data), infer_schema=False)


def region_names(codes: list[str], lang: str) -> list[str]:
    """Each council's region in ``lang``; a council outside the list is in "Other"."""
    names = dict(zip(regions()["ons_code"].to_list(), regions()[f"region_{lang}"].to_list()))
    other = "Arall" if lang == "cy" else "Other"
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
        frames = []
        for label, allocation in zip(self.labels, self.scenarios):
            scenario = allocation.councils
            frames.append(
                pl.DataFrame(
                    {
                        "scenario": [label] * base.height,
                        "ons_code": base["ons_code"],
                        "council": base[f"name_{lang}"],
                        "region": region_names(base["ons_code"].to_list(), lang),
                        "aef_baseline": base["aef"],
                        "aef": scenario["aef"],
                        "difference": scenario["aef"] - base["aef"],
                        "pct_difference": 100.0 * (scenario["aef"] - base["aef"]) / base["aef"],
                        "floor_topup_baseline": base["floor_topup"],
                        "floor_topup": scenario["floor_topup"],
                        "rank_baseline": base["rank"],
                        "rank": scenario["rank"],
                        "rank_change": base["rank"] - scenario["rank"],
                    }
                )
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
                pl.len().alias("councils"),
            )
            .with_columns((100.0 * pl.col("difference") / pl.col("aef_baseline")).alias("pct_difference"))
        )

    def wales_summary(self, lang: str = "en") -> list[dict]:
        """Per scenario: totals, floor cost, councils gaining / losing / on the floor, extremes."""
        summaries = []
        for index, (label, allocation) in enumerate(zip(self.labels, self.scenarios)):
            table = self.scenario_table(index, lang)
            difference = table["difference"]
            gain = table.row(int(difference.arg_max()), named=True)
            loss = table.row(int(difference.arg_min()), named=True)
            # Nobody gaining (or losing) has no largest gain (or loss).
            if gain["difference"] < CHANGE_THRESHOLD:
                gain = {"council": term("words", "none", lang), "difference": 0.0}
            if loss["difference"] > -CHANGE_THRESHOLD:
                loss = {"council": term("words", "none", lang), "difference": 0.0}
            summaries.append(
                {
                    "scenario": label,
                    "aef_baseline": float(table["aef_baseline"].sum()),
                    "aef": float(table["aef"].sum()),
                    "difference": float(difference.sum()),
                    "pct_difference": 100.0 * float(difference.sum()) / float(table["aef_baseline"].sum()),
                    "floor_cost_baseline": self.baseline.floor_cost,
                    "floor_cost": allocation.floor_cost,
                    "gaining": int((difference >= CHANGE_THRESHOLD).sum()),
                    "losing": int((difference <= -CHANGE_THRESHOLD).sum()),
                    "on_floor": int((table["floor_topup"] >= CHANGE_THRESHOLD).sum()),
                    "largest_gain_council": gain["council"],
                    "largest_gain": gain["difference"],
                    "largest_loss_council": loss["council"],
                    "largest_loss": loss["difference"],
                }
            )
        return summaries


def scenario_label(path: str | Path, dataset: Dataset) -> str:
    """A scenario's name if it has one, else its file name."""
    return dataset.provenance.get("scenario_name") or Path(path).stem


def compare_files(
    scenario_paths: list[str | Path],
    baseline_path: str | Path | None = None,
    data: str | Path | None = None,
) -> Comparison:
    """Settle a baseline (the dataset, or a scenario file on it) and each scenario file.

    Raises :class:`InputError` listing every problem in the dataset and every file.
    """
    dataset = load_dataset(data)
    problems: list[Problem] = []
    datasets: list[Dataset | None] = []
    paths = [baseline_path, *scenario_paths]
    for path in paths:
        if path is None or str(path) == DEFAULT_BASELINE:
            datasets.append(dataset)
            continue
        try:
            datasets.append(apply_scenario(dataset, load_scenario(path)))
        except InputError as error:
            problems += error.problems
            datasets.append(None)
    allocations = []
    for changed in datasets:
        if changed is None:
            continue
        try:
            allocations.append(settle(changed))
        except InputError as error:
            problems += error.problems
    if problems:
        raise InputError(problems)
    baseline, *scenarios = allocations
    baseline_label = (
        dataset.name if baseline_path is None or str(baseline_path) == DEFAULT_BASELINE else scenario_label(baseline_path, datasets[0])
    )
    labels = unique_labels([scenario_label(p, d) if str(p) != DEFAULT_BASELINE else dataset.name for p, d in zip(scenario_paths, datasets[1:])])
    return Comparison(baseline=baseline, scenarios=tuple(scenarios), baseline_label=baseline_label, labels=tuple(labels))


def unique_labels(labels: list[str]) -> list[str]:
    """Labels made unique by numbering repeats, so each scenario can be told apart."""
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        unique.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return unique
