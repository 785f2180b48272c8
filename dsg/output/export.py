"""Exported tables: CSV, Parquet and XLSX, rounded, with provenance, written atomically.

Money leaves dsg in whole pounds, each column rounded by largest remainder so that the
council rows add up exactly to the rounded Wales total (SPEC §4). A CSV gets a provenance
Frictionless Data Package beside it (``name.datapackage.json``: types, units, licence,
sources and provenance), Parquet carries the provenance in its metadata, XLSX on a sheet.
Files written together (a CSV and its sidecar, a grant report's five files) land together
or not at all.
"""

from __future__ import annotations

import io
import json
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import polars as pl

from dsg.analysis.caveats import caveat_summary
from dsg.errors import Problem, raise_if
from dsg.formula.settle import ALLOCATION_COLUMNS, MONEY_COLUMNS, Allocation
from dsg.i18n import name_of
from dsg.output import workbook
from dsg.output.datapackage import data_package
from dsg.output.files import (
    GRANT_REPORT_FILES,
    GRANT_TABLES,
    files_problems,
    output_path_problems,
    sidecar_path,
    writing,
)
from dsg.output.formats import PCT_DECIMALS
from dsg.output.provenance import (
    allocation_provenance,
    comparison_provenance,
    path_provenance,
    provenance,
    stamped,
)
from dsg.output.rounding import parts_of_rows, round_half_up, rounded_by_group, whole_pounds


def rounded_table(allocation: Allocation, lang: str = "en") -> pl.DataFrame:
    """The SPEC §4 table as exported: whole pounds by largest remainder, pct_change to 6 dp."""
    table = allocation.table(lang)
    return table.with_columns(
        *(pl.Series(c, whole_pounds(table[c].to_numpy())) for c in MONEY_COLUMNS),
        pl.col("pct_change").round(PCT_DECIMALS),
    )


def write_table(table: pl.DataFrame, record: dict, target: Path) -> None:
    """A CSV (with its data package) or a Parquet file (provenance in its metadata)."""
    with ExitStack() as files:
        write_table_into(files, table, record, target)


# A text cell starting with one of these is read by a spreadsheet as a formula (or, for the
# tab and carriage return, may be trimmed into one); a leading apostrophe makes it text.
FORMULA_STARTS = "=+-@\t\r"


def spreadsheet_safe(table: pl.DataFrame) -> pl.DataFrame:
    """``table`` for a CSV: text cells (never numbers) that a spreadsheet would take for a
    formula get a leading ``'``, so a name such as ``=HYPERLINK(...)`` shows as written."""
    pattern = "^[" + "".join(f"\\x{ord(c):02x}" for c in FORMULA_STARTS) + "]"
    text = [c for c, kind in table.schema.items() if kind in (pl.String, pl.Categorical, pl.Enum)]
    return table.with_columns(
        pl.when(pl.col(c).cast(pl.String).str.contains(pattern))
        .then(pl.lit("'") + pl.col(c).cast(pl.String))
        .otherwise(pl.col(c).cast(pl.String))
        .alias(c)
        for c in text
    )


def write_table_into(files: ExitStack, table: pl.DataFrame, record: dict, target: Path) -> None:
    """Write a table (and a CSV's data package) to temporary files that replace the real ones only
    when ``files`` closes without error."""
    if target.suffix.lower() != ".csv":
        metadata = {"dsg_provenance": json.dumps(stamped(record), sort_keys=True, default=str)}
        # Made in memory and written by Python: on a full disk polars says only "Invalid
        # thrift: transport error", Python says "No space left on device".
        buffer = io.BytesIO()
        table.write_parquet(buffer, metadata=metadata)
        files.enter_context(writing(target)).write_bytes(buffer.getvalue())
        return
    # The data package holds the date; the CSV itself stays byte-identical for the same inputs.
    spreadsheet_safe(table).write_csv(files.enter_context(writing(target)))
    descriptor = data_package(table, json.loads(json.dumps(stamped(record), default=str)), target)
    text = json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n"
    files.enter_context(writing(sidecar_path(target))).write_text(text, encoding="utf-8")


def write_allocation(allocation, path: str | Path, lang: str = "en", years: list[str] | None = None) -> Path:
    """Write the SPEC §4 table to CSV, Parquet or XLSX (chosen by extension), atomically.

    ``allocation`` is one Allocation, or several (one per year of a path, named by
    ``years``): then XLSX has a sheet per year and CSV / Parquet a ``year`` column after the
    SPEC §4 columns, money rounded within each year, and the provenance holds each year's
    parameters.
    """
    raise_if(output_path_problems(path))
    target = Path(path)
    allocations = list(allocation) if isinstance(allocation, (list, tuple)) else [allocation]
    tables = [rounded_table(a, lang) for a in allocations]
    if len(allocations) > 1:
        assert years is not None and len(years) == len(allocations)
        record = path_provenance(allocations, years)
    else:
        record = allocation_provenance(allocations[0])
    if target.suffix.lower() == ".xlsx":
        if len(allocations) > 1:
            sheets = list(zip(years or [], tables))
        else:
            sheets = [(name_of("words", "allocation_sheet", lang), tables[0])]
        subtitle = allocations[0].dataset.provenance.get("scenario_name") or allocations[0].dataset.title(lang)
        with writing(target) as temporary:
            caveat = caveat_summary(allocations[0].dataset, lang)
            workbook.allocation_workbook(temporary, sheets, ALLOCATION_COLUMNS, record, lang, subtitle, caveat)
    else:
        write_table(allocation_table(allocations, lang, years), record, target)
    return target


def allocation_table(allocations, lang: str = "en", years: list[str] | None = None) -> pl.DataFrame:
    """The SPEC §4 table as CSV and Parquet carry it: rounded, and with several years (a
    path), every year's rows with a ``year`` column after SPEC §4's columns."""
    tables = [rounded_table(a, lang) for a in allocations]
    if len(tables) == 1:
        return tables[0]
    return pl.concat(t.select(*ALLOCATION_COLUMNS, pl.lit(y).alias("year")) for y, t in zip(years or [], tables))


def table_text(frame: pl.DataFrame, fmt: str) -> str:
    """A table as text for standard output (``--format``): CSV, the same as the exported file
    (formula-like cells made safe for spreadsheets), or JSON, a list of one object per row."""
    if fmt == "csv":
        return spreadsheet_safe(frame).write_csv()
    return json.dumps(frame.to_dicts(), ensure_ascii=False, indent=1) + "\n"


def rounded_comparison(comparison, lang: str = "en", decompositions=None) -> pl.DataFrame:
    """The long comparison table as exported: whole pounds by largest remainder within each
    scenario; with decompositions, one ``cause_<name>`` column per cause (0 where unchanged)."""
    from dsg.analysis.decompose import CAUSES

    # The given figures are rounded by largest remainder; the differences are worked from the
    # rounded figures, so that every row holds aef - aef_baseline = difference and
    # difference + grants - grants_baseline = net_difference to the pound.
    given = ("aef_baseline", "aef", "floor_topup_baseline", "floor_topup", "grants_baseline", "grants")
    table = (
        rounded_by_group(comparison.long_table(lang), given, ("scenario",))
        .with_columns((pl.col("aef") - pl.col("aef_baseline")).alias("difference"))
        .with_columns((pl.col("difference") + pl.col("grants") - pl.col("grants_baseline")).alias("net_difference"))
    )
    frames = []
    for index, label in enumerate(comparison.labels):
        part = table.filter(pl.col("scenario") == label)
        if decompositions is not None:
            parts = decompositions[index].parts
            matrix = np.column_stack(
                [parts[c].to_numpy() if c in parts.columns else np.zeros(part.height) for c, _ in CAUSES]
            )
            # Causes add up to each row's difference (that of the decomposition's own measure).
            total = part["difference"].to_numpy() if decompositions[index].measure == "aef" else None
            rounded = (
                parts_of_rows(matrix, total)
                if total is not None
                else np.column_stack([whole_pounds(matrix[:, j]) for j in range(matrix.shape[1])])
            )
            part = part.with_columns(
                pl.Series(f"cause_{cause}", rounded[:, j].astype(np.int64), dtype=pl.Int64)
                for j, (cause, _) in enumerate(CAUSES)
            )
        frames.append(part)
    return pl.concat(frames).with_columns(
        pl.col("pct_difference").round(PCT_DECIMALS),
        pl.col("difference_per_head", "difference_per_band_d").round(2),
    )


def write_comparison(comparison, path: str | Path, lang: str = "en", decompositions=None) -> Path:
    """CSV / Parquet: the long comparison table. XLSX: the finance-team workbook
    (summary, allocations, differences, decomposition, IBAs, indicators, provenance)."""
    raise_if(output_path_problems(path))
    target = Path(path)
    record = comparison_provenance(comparison)
    if target.suffix.lower() != ".xlsx":
        write_table(rounded_comparison(comparison, lang, decompositions), record, target)
        return target
    summary = pl.DataFrame(comparison.wales_summary(lang))
    money = [c for c in summary.columns if c in workbook.COMPARISON_KINDS and workbook.COMPARISON_KINDS[c] == "money"]
    summary = summary.with_columns(pl.col(c).map_elements(round_half_up, return_dtype=pl.Float64) for c in money)
    count = summary.height
    sheet_names = [name_of("words", "scenario_sheet", lang, number=n) for n in range(1, count + 1)]
    summary = summary.with_columns(pl.Series("sheet", sheet_names)).select("sheet", *summary.columns)
    allocations = [(name_of("words", "baseline", lang), rounded_table(comparison.baseline, lang))]
    allocations += [(name, rounded_table(a, lang)) for name, a in zip(sheet_names, comparison.scenarios)]
    long = rounded_comparison(comparison, lang, decompositions)
    labels = list(comparison.labels)
    causes = [c for c in long.columns if c.startswith("cause_")]
    shown = [c for c in long.columns if c not in ("scenario", *causes)]
    differences = [long.filter(pl.col("scenario") == label).select(shown) for label in labels]
    parts = None
    if decompositions is not None:
        parts = []
        for label, decomposition in zip(labels, decompositions):
            rows = long.filter(pl.col("scenario") == label)
            kept = [f"cause_{c}" for c in decomposition.causes]
            parts.append(
                rows.select("ons_code", "council", *kept, pl.col("difference").alias("total")).rename(
                    {f"cause_{c}": c for c in decomposition.causes}
                )
            )
    sides = [comparison.baseline_label, *labels]
    ibas = comparison.iba_table(lang)
    iba_sheets = []
    for index, side in enumerate(sides):
        table = ibas.filter(pl.col("scenario") == side).drop("scenario")
        numeric = [c for c in table.columns if c not in ("ons_code", "council")]
        name = name_of("words", "baseline", lang) if index == 0 else sheet_names[index - 1]
        iba_sheets.append((name, rounded_by_group(table, numeric)))
    with writing(target) as temporary:
        workbook.comparison_workbook(
            temporary,
            lang,
            summary,
            allocations,
            differences,
            parts,
            iba_sheets,
            comparison.indicator_table(lang),
            record,
            labels,
            comparison.baseline_label,
            [wales_per_unit(comparison, table) for table in differences],
            caveat_summary(comparison.scenarios[0].dataset, lang, grants=comparison.moves_grants),
        )
    return target


def wales_per_unit(comparison, table: pl.DataFrame) -> dict:
    """The Wales difference per head and per Band D dwelling (the Wales totals divided)."""
    from dsg.formula.arrays import per_unit, unit_counts

    difference = float(table["difference"].sum())
    figures = {
        f"difference_{unit}": float(per_unit(difference, count.sum()))
        for unit, count in unit_counts(comparison.baseline.dataset).items()
    }
    return {k: round(v, 2) for k, v in figures.items() if v == v}


GRANT_FILES = GRANT_TABLES


def grant_tables(report, lang: str = "en") -> dict[str, pl.DataFrame]:
    """The four report tables as exported: whole pounds adding up within each year and grant,
    percentages to 6 decimals."""
    year = ("year",) if report.multi_year else ()
    return {
        "dehypothecation": rounded_by_group(
            report.dehypothecation(lang), ("grant_before", "aef_gain", "net"), (*year, "grant")
        ),
        "consolidation": rounded_by_group(
            report.consolidation(lang), ("old", "new", "change"), (*year, "grant")
        ).with_columns(pl.col("pct_change").round(PCT_DECIMALS)),
        "multiyear": rounded_by_group(
            report.multiyear(lang), ("base_aef", "aef", "change", "floor_topup"), ("year",)
        ).with_columns(pl.col("pct_change").round(PCT_DECIMALS)),
        "hypothecation": rounded_by_group(
            report.hypothecation(lang), ("aef_before", "grants_before", "aef_after", "grants_after")
        ).with_columns(pl.col("level_before", "level_after").round(PCT_DECIMALS)),
    }


def grant_report_problems(directory: str | Path) -> list[Problem]:
    """Why a grant report could not be written into ``directory`` (made if missing)."""
    return files_problems(directory, GRANT_REPORT_FILES)


def write_grant_report(report, directory: str | Path, lang: str = "en") -> list[Path]:
    """dehypothecation.csv, consolidation.csv, multiyear.csv and hypothecation.csv (each
    with its data package), and grants.xlsx holding all of them."""
    raise_if(grant_report_problems(directory))
    folder = Path(directory)
    tables = grant_tables(report, lang)
    record = provenance(report.path.final.dataset, years=", ".join(report.path.years))
    written = [folder / f"{name}.csv" for name in GRANT_FILES] + [folder / "grants.xlsx"]
    with ExitStack() as files:
        for name, target in zip(GRANT_FILES, written):
            write_table_into(files, tables[name], record, target)
        grants = {g for table in tables.values() if "grant" in table.columns for g in table["grant"].to_list()}
        names = {g: report.dataset.grant_name(g, lang) for g in grants if g is not None}
        caveat = caveat_summary(report.path.final.dataset, lang, grants=True)
        workbook.grant_workbook(files.enter_context(writing(written[-1])), lang, tables, record, names, caveat)
    return written


def rounded_frame(frame: pl.DataFrame, kinds: dict | None) -> pl.DataFrame:
    """A result table as CSV and Parquet carry it: percentages to PCT_DECIMALS, as in every
    table (2.8, not 2.8000000000000003)."""
    percent = [c for c, kind in (kinds or {}).items() if kind == "pct" and c in frame.columns]
    return frame.with_columns(pl.col(percent).round(PCT_DECIMALS))


def write_frame(
    frame: pl.DataFrame,
    path: str | Path,
    record: dict,
    lang: str = "en",
    kinds: dict | None = None,
    values: tuple[str, ...] = (),
    caveat: str = "",
) -> Path:
    """Any result table to CSV / Parquet (with provenance) or a one-sheet XLSX; ``values``
    are columns named by a value rather than a glossary term (a sweep's weights); ``caveat``
    says, on the sheet, what rests on illustrative inputs."""
    raise_if(output_path_problems(path))
    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        write_table(rounded_frame(frame, kinds), record, target)
        return target
    with writing(target) as temporary:
        workbook.frame_workbook(temporary, lang, frame, kinds or {}, record, values, caveat)
    return target
