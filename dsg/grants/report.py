"""The tables of a grant scenario: dehypothecation, consolidation, multi-year path, hypothecation.

Every figure is taken from :class:`dsg.grants.path.GrantPath`; this module only arranges
them per council, with names in the chosen language.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from dsg.formula.dataset import Dataset
from dsg.formula.scenario import Scenario
from dsg.grants.moves import grant_amounts
from dsg.grants.path import GrantPath
from dsg.i18n import status_label

DEHYPOTHECATION_COLUMNS = ("grant", "ons_code", "grant_before", "aef_gain", "net", "floor_protected")
CONSOLIDATION_COLUMNS = ("grant", "ons_code", "old", "new", "change", "pct_change")
MULTIYEAR_COLUMNS = ("year", "ons_code", "council", "base_aef", "aef", "change", "pct_change", "floor_topup")
HYPOTHECATION_COLUMNS = (
    "ons_code",
    "council",
    "aef_before",
    "grants_before",
    "level_before",
    "aef_after",
    "grants_after",
    "level_after",
)


@dataclass(frozen=True)
class GrantReport:
    """A grant scenario's results. ``multi_year`` when the path spans more than one year."""

    dataset: Dataset
    scenario: Scenario
    path: GrantPath

    @property
    def multi_year(self) -> bool:
        return len(self.path.years) > 1

    def names(self, lang: str) -> dict[str, str]:
        return dict(zip(self.dataset.council_codes, self.dataset.council_names(lang)))

    def _long(self, rows: list[dict], columns: tuple[str, ...], lang: str) -> pl.DataFrame:
        """Rows as a frame, with the council's name after its code and a year column only
        when the path spans years."""
        schema = {"year": pl.String, "grant": pl.String, "ons_code": pl.String, "pct_change": pl.Float64}
        frame = (
            pl.DataFrame(rows, schema_overrides=schema)
            if rows
            else pl.DataFrame(schema={**schema, **{c: pl.Float64 for c in columns if c not in schema}})
        )
        names = self.names(lang)
        frame = frame.with_columns(pl.col("ons_code").replace_strict(names, default="").alias("council"))
        ordered = [c for c in columns if c != "ons_code"]
        leading = ["year"] if self.multi_year else []
        return frame.select(*leading, ordered[0], "ons_code", "council", *ordered[1:])

    def dehypothecation(self, lang: str = "en") -> pl.DataFrame:
        """Per grant moved (and year), per council: grant_before, aef_gain, net (SPEC §5)."""
        return self._long(self.path.dehypothecation, DEHYPOTHECATION_COLUMNS, lang)

    def consolidation(self, lang: str = "en") -> pl.DataFrame:
        """Per merged grant (and year), per council: old, new, change, pct_change (SPEC §5)."""
        return self._long(self.path.consolidation, CONSOLIDATION_COLUMNS, lang)

    def multiyear(self, lang: str = "en") -> pl.DataFrame:
        """Council x year: base (last year's AEF plus transfers), AEF, change, floor top-up."""
        frames = []
        for year, allocation in zip(self.path.years, self.path.allocations):
            councils = allocation.councils
            frames.append(
                pl.DataFrame(
                    {
                        "year": [year] * councils.height,
                        "ons_code": councils["ons_code"],
                        "council": councils[f"name_{lang}"],
                        "base_aef": councils["base_aef"],
                        "aef": councils["aef"],
                        "change": councils["change"],
                        "pct_change": councils["pct_change"],
                        "floor_topup": councils["floor_topup"],
                    }
                )
            )
        return pl.concat(frames).select(MULTIYEAR_COLUMNS)

    def multiyear_wales(self) -> pl.DataFrame:
        """Wales totals per year: base, AEF, change, % change, floor cost, AEF shared by formula."""
        return pl.DataFrame(
            {
                "year": self.path.years,
                "base_aef": [float(a.councils["base_aef"].sum()) for a in self.path.allocations],
                "aef": [float(a.councils["aef"].sum()) for a in self.path.allocations],
                "change": [float(a.councils["change"].sum()) for a in self.path.allocations],
                "pct_change": [a.wales_pct_change() for a in self.path.allocations],
                "floor_cost": [a.floor_cost for a in self.path.allocations],
                "aef_total": [a.aef_total for a in self.path.allocations],
            }
        )

    def hypothecation(self, lang: str = "en") -> pl.DataFrame:
        """Share of each council's external funding (AEF + specific grants) that is
        hypothecated, before the scenario and at the end of its path, in %."""
        codes = self.dataset.council_codes
        assert self.path.start is not None  # run_path and pipeline.report_of set it
        start = self.path.start.councils["aef"].to_numpy()
        end = self.path.final.councils["aef"].to_numpy()
        before = sum(self.path.start_grants.values(), np.zeros(len(codes)))
        after = sum(self.path.end_grants.values(), np.zeros(len(codes)))
        return pl.DataFrame(
            {
                "ons_code": codes,
                "council": self.dataset.council_names(lang),
                "aef_before": start,
                "grants_before": before,
                "level_before": 100 * before / (start + before),
                "aef_after": end,
                "grants_after": after,
                "level_after": 100 * after / (end + after),
            }
        )

    def hypothecation_wales(self) -> dict[str, float]:
        frame = self.hypothecation()
        sums = {c: float(frame[c].sum()) for c in ("aef_before", "grants_before", "aef_after", "grants_after")}
        sums["level_before"] = 100 * sums["grants_before"] / (sums["aef_before"] + sums["grants_before"])
        sums["level_after"] = 100 * sums["grants_after"] / (sums["aef_after"] + sums["grants_after"])
        return sums


def catalogue(dataset: Dataset, lang: str = "en") -> pl.DataFrame:
    """The dataset's specific grants: name, Wales total of the allocations, year, key, purpose."""
    amounts = grant_amounts(dataset)
    info = {}
    if dataset.grant_catalogue is not None:
        info = {row["grant"]: row for row in dataset.grant_catalogue.iter_rows(named=True)}
    rows = []
    for grant, values in amounts.items():
        entry = info.get(grant, {})
        name = dataset.grant_name(grant, lang)
        rows.append(
            {
                "grant": grant,
                "name": name or grant,
                "total": float(values.sum()),
                "year": entry.get("year") or "",
                "key": entry.get("key") or "",
                "key_status": status_label(entry.get("key_status"), lang),
                "purpose": entry.get(f"purpose_{lang}") or "",
                "source": entry.get("source") or "",
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            c: (pl.Float64 if c == "total" else pl.String)
            for c in ("grant", "name", "total", "year", "key", "key_status", "purpose", "source")
        },
    )
