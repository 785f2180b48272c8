"""Open data: the Frictionless Data Package that describes an exported CSV.

Beside ``NAME.csv`` dsg writes ``NAME.datapackage.json``: a tabular data package with one
resource, the CSV, whose Table Schema gives each column's type, its English label and its unit;
the licence and the sources of the dataset; and dsg's provenance record (with the date, which is
kept out of the CSV so that the CSV is byte-identical for the same inputs).
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from dsg.i18n import has_name, name_of

OGL = {
    "name": "OGL-UK-3.0",
    "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
    "title": "Open Government Licence v3.0",
}
# Units by column: £ for money, % for percentages (SPEC's percentage numbers, 3.6 for 3.6 %).
PER_HEAD = {"difference_per_head": "GBP per person", "difference_per_band_d": "GBP per Band D equivalent dwelling"}
NOT_MONEY = {"rank", "rank_baseline", "rank_change", "councils", "gaining", "losing", "on_floor"}


def field_type(dtype: pl.DataType) -> str:
    if dtype.is_integer():
        return "integer"
    if dtype.is_float():
        return "number"
    if dtype == pl.Boolean:
        return "boolean"
    return "string"


def unit_of(column: str, kind: str) -> str | None:
    """A column's unit, from its name and type: GBP, percent, a per-unit £, or none."""
    if column in PER_HEAD:
        return PER_HEAD[column]
    if kind not in ("integer", "number") or column in NOT_MONEY or column.startswith("rank"):
        return None
    if "pct" in column or column.startswith("level_") or column == "probability_on_floor":
        return "fraction" if column == "probability_on_floor" else "percent"
    return "GBP"


def slug(text: str) -> str:
    """A Data Package name: lower case letters, digits, '-', '_' and '.'."""
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-") or "table"


def schema_field(column: str, dtype: pl.DataType) -> dict:
    kind = field_type(dtype)
    field: dict = {"name": column, "type": kind}
    if has_name("columns", column):
        field["title"] = name_of("columns", column, "en")
    unit = unit_of(column, kind)
    if unit is not None:
        field["unit"] = unit  # a property of dsg's own: Table Schema has none for units
        field["description"] = f"unit: {unit}"
    return field


def licence_of(text: str) -> dict:
    if "Open Government Licence" in text:
        return OGL
    return {"name": "other", "title": text or "not stated"}


def data_package(table: pl.DataFrame, record: dict, target: Path) -> dict:
    """The descriptor of ``target`` (a CSV holding ``table``) with ``record``, dsg's provenance
    (already stamped with its date)."""
    sources = record.get("sources", {})
    return {
        "profile": "tabular-data-package",
        "name": slug(f"dsg-{record.get('dataset', '')}-{target.stem}"),
        "title": str(record.get("scenario_name") or record.get("dataset") or target.stem),
        "description": str(record.get("description", "")),
        "created": record.get("written", ""),
        "licenses": [licence_of(str(record.get("licence", "")))],
        "sources": [{"title": key, "path": url} for key, url in sources.items()] if isinstance(sources, dict) else [],
        "resources": [
            {
                "name": slug(target.stem),
                "path": target.name,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {
                    "fields": [schema_field(c, t) for c, t in table.schema.items()],
                    "missingValues": [""],
                },
            }
        ],
        "dsg_provenance": record,
    }
