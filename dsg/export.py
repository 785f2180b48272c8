"""Exported allocation tables: rounding, CSV / Parquet / XLSX, atomic writes.

Money leaves dsg in whole pounds, each column rounded by largest remainder so that the
council rows add up exactly to the rounded Wales total (SPEC §4): what a finance officer
checks first when a table opens in Excel.
"""

from __future__ import annotations

import gc
import json
import math
import os
import sys
import tempfile
from contextlib import ExitStack, contextmanager
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import polars as pl

from dsg.errors import InputError, Problem, raise_if
from dsg.formula.settlement import ALLOCATION_COLUMNS, MONEY_COLUMNS, Allocation
from dsg.i18n import column_label, term

FORMATS = (".csv", ".parquet", ".xlsx")
CHART_FORMATS = (".png",)
# SPEC §4 asks for at least 4; 6 keeps a 0.0001 % difference visible.
PCT_DECIMALS = 6


def dsg_version() -> str:
    try:
        return version("dsg")
    except PackageNotFoundError:
        return "unknown"


def round_half_up(value: float, unit: float = 1.0) -> float:
    """``value`` to the nearest multiple of ``unit``, halves away from zero (as Excel's ROUND)."""
    scaled = abs(value) / unit
    whole = math.floor(scaled)
    # Compare the fraction with 0.5 rather than add 0.5: floor(x + 0.5) rounds
    # 0.49999999999999994 up.
    if scaled - whole >= 0.5:
        whole += 1
    return math.copysign(whole, value) * unit


def largest_remainder(values: np.ndarray, unit: float = 1.0) -> np.ndarray:
    """Round to multiples of ``unit`` so that the results add up to the rounded total.

    Each value is rounded down, then the units still missing from the rounded total go
    to the values with the largest remainders (ties to the earliest row, i.e. council
    order), so no figure moves by a full unit or more.
    """
    values = np.asarray(values, dtype=np.float64)
    scaled = values / unit
    target = round_half_up(math.fsum(scaled))
    floors = np.floor(scaled)
    remainders = scaled - floors
    missing = int(round(target - floors.sum()))
    order = np.argsort(-remainders, kind="stable")
    rounded = floors.copy()
    rounded[order[:missing]] += 1.0
    return rounded * unit


def rounded_table(allocation: Allocation, lang: str = "en") -> pl.DataFrame:
    """The SPEC §4 table as exported: whole pounds by largest remainder, pct_change to 6 dp."""
    table = allocation.table(lang)
    return table.with_columns(
        *(pl.Series(c, largest_remainder(table[c].to_numpy()).astype(np.int64)) for c in MONEY_COLUMNS),
        pl.col("pct_change").round(PCT_DECIMALS),
    )


def provenance_record(allocation: Allocation) -> dict:
    """What produced the table: dataset, content hashes, scenario, dsg version."""
    record = {"dsg_version": dsg_version(), **allocation.dataset.provenance}
    record.update(
        settlement={k: v for k, v in allocation.dataset.settlement.as_dict().items()},
        notional_band_d=allocation.notional_band_d,
        aef_total=allocation.aef_total,
        floor_cost=allocation.floor_cost,
    )
    return record


def stamped(provenance: dict) -> dict:
    """Provenance with the time of writing (UTC), for the places that may carry a date."""
    return {**provenance, "written": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def output_path_problems(path: str | Path, formats: tuple[str, ...] = FORMATS) -> list[Problem]:
    """Why ``path`` could not be written in one of ``formats`` (empty when it can), checked before any work."""
    target = Path(path)
    problems = []
    if target.suffix.lower() not in formats:
        problems.append(Problem(str(path), "unknown_extension", params={"value": target.name, "allowed": ", ".join(formats)}))
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        problems.append(Problem(str(path), "no_such_folder", params={"folder": str(parent)}))
    elif not os.access(parent, os.W_OK):
        problems.append(Problem(str(path), "cannot_write", params={"reason": f"{parent}: permission denied"}))
    return problems


def chart_path_problems(path: str | Path) -> list[Problem]:
    """Checked here, not in dsg.charts, so that checking a path does not load matplotlib."""
    return output_path_problems(path, CHART_FORMATS)


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: Path):
    """A temporary path beside ``path`` that replaces it only if writing succeeds."""
    if path.is_dir():  # found now, before any of a set of files has replaced anything
        raise IsADirectoryError(21, "is a folder", str(path))
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(descriptor)
    try:
        yield Path(temporary)
        # mkstemp makes the file private (0600); give it the mode a plainly created file
        # would have, or the mode of the file it replaces, so colleagues can open it.
        os.chmod(temporary, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~current_umask())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


@contextmanager
def writing(target: Path):
    """:func:`atomic_path`, with a failure reported as an input problem.

    A full disk or a file held open by Excel is said plainly; the old file is untouched.
    """
    try:
        with atomic_path(target) as temporary:
            yield temporary
    except (OSError, pl.exceptions.ComputeError) as exc:  # polars reports a full disk this way
        raise InputError([Problem(str(target), "cannot_write", params={"reason": exc.strerror or str(exc)})]) from None


def write_allocation(allocation: Allocation, path: str | Path, lang: str = "en") -> Path:
    """Write the SPEC §4 table to CSV, Parquet or XLSX (chosen by extension), atomically.

    CSV gets a provenance sidecar ``<name>.provenance.json``; Parquet carries it in its
    metadata, XLSX on a sheet.
    """
    raise_if(output_path_problems(path))
    target = Path(path)
    table = rounded_table(allocation, lang)
    provenance = provenance_record(allocation)
    if target.suffix.lower() == ".xlsx":
        with writing(target) as temporary:
            book = Book(temporary, lang)
            book.allocation_sheet(term("words", "allocation_sheet", lang), table)
            book.columns_sheet(ALLOCATION_COLUMNS)
            book.provenance_sheet(provenance)
            book.close()
    else:
        write_table(table, provenance, target)
    return target


def write_table(table: pl.DataFrame, provenance: dict, target: Path) -> None:
    """A CSV (with its provenance sidecar) or a Parquet file (provenance in its metadata)."""
    with ExitStack() as files:
        write_table_into(files, table, provenance, target)


def write_table_into(files: ExitStack, table: pl.DataFrame, provenance: dict, target: Path) -> None:
    """Write a table (and a CSV's sidecar) to temporary files that replace the real ones only
    when ``files`` closes without error: files written together land together or not at all."""
    if target.suffix.lower() != ".csv":
        metadata = {"dsg_provenance": json.dumps(stamped(provenance), sort_keys=True, default=str)}
        table.write_parquet(files.enter_context(writing(target)), metadata=metadata)
        return
    # The sidecar holds the date; the CSV itself stays byte-identical for the same inputs.
    table.write_csv(files.enter_context(writing(target)))
    record = json.dumps(stamped(provenance), indent=2, sort_keys=True, default=str) + "\n"
    files.enter_context(writing(sidecar_path(target))).write_text(record, encoding="utf-8")


def sidecar_path(target: Path) -> Path:
    return target.with_name(f"{target.stem}.provenance.json")


def flatten(record: dict, prefix: str = "") -> list[tuple[str, str]]:
    """Nested provenance as (dotted key, text) rows, for a two-column sheet."""
    rows = []
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows += flatten(value, f"{name}.")
        else:
            rows.append((name, str(value)))
    return rows


# Excel number formats by kind of column.
NUMBER_FORMATS = {
    "money": "#,##0",
    "pounds2": "#,##0.00",
    "pct": "0.0000",
    "share": "0.0000",
    "int": "0",
    "number": "General",
}
# Characters Excel refuses in sheet names, and its length limit.
SHEET_FORBIDDEN = "[]:*?/\\"
SHEET_NAME_LIMIT = 31


def sheet_name(name: str) -> str:
    """A name Excel accepts: forbidden characters dropped, at most 31 characters."""
    cleaned = "".join(c for c in name if c not in SHEET_FORBIDDEN).strip("'")
    return cleaned[:SHEET_NAME_LIMIT]


class Book:
    """A macro-free workbook with formatted money, frozen headers and set column widths."""

    def __init__(self, path: Path, lang: str):
        import xlsxwriter

        self.workbook = xlsxwriter.Workbook(str(path))
        self.lang = lang
        self.formats = {kind: self.workbook.add_format({"num_format": f}) for kind, f in NUMBER_FORMATS.items()}
        self.totals = {kind: self.workbook.add_format({"num_format": f, "bold": True, "top": 1}) for kind, f in NUMBER_FORMATS.items()}
        self.header = self.workbook.add_format({"bold": True, "text_wrap": True, "valign": "top", "bottom": 1})
        self.bold = self.workbook.add_format({"bold": True})
        self.total_label = self.workbook.add_format({"bold": True, "top": 1})

    def sheet(
        self,
        name: str,
        frame: pl.DataFrame,
        kinds: dict[str, str],
        headers: list[str] | None = None,
        totals: dict[str, float] | None = None,
        freeze_columns: int = 0,
    ):
        """One table: a header row, then the frame; ``kinds`` maps columns to NUMBER_FORMATS
        keys (others are text); ``totals`` adds a bold row of values (not formulas: a
        workbook written here has no cached formula results, and some viewers would show
        zeros)."""
        sheet = self.workbook.add_worksheet(sheet_name(name))
        headers = headers or list(frame.columns)
        for column, text in enumerate(headers):
            sheet.write_string(0, column, text, self.header)
        for row, record in enumerate(frame.iter_rows(), start=1):
            for column, (name_, value) in enumerate(zip(frame.columns, record)):
                kind = kinds.get(name_)
                if value is None:
                    continue
                if kind is None:
                    sheet.write_string(row, column, str(value))
                else:
                    sheet.write_number(row, column, value, self.formats[kind])
        if totals:
            row = frame.height + 1
            for column, name_ in enumerate(frame.columns):
                if name_ in totals:
                    value = totals[name_]
                    if isinstance(value, str):
                        sheet.write_string(row, column, value, self.total_label)
                    else:
                        sheet.write_number(row, column, value, self.totals[kinds.get(name_, "number")])
        sheet.freeze_panes(1, freeze_columns)
        for column, name_ in enumerate(frame.columns):
            texts = [headers[column]] if kinds.get(name_) else [headers[column], *map(str, frame[name_].to_list())]
            width = max(12, min(45, max(len(t) for t in texts) + 2)) if kinds.get(name_) is None else 15
            sheet.set_column(column, column, width)
        sheet.set_row(0, 30)
        return sheet

    def allocation_sheet(self, name: str, table: pl.DataFrame):
        """A SPEC §4 table (already rounded), with its column names and a Wales row."""
        kinds = {c: "money" for c in MONEY_COLUMNS} | {"pct_change": "pct", "rank": "int"}
        totals: dict = {c: int(table[c].sum()) for c in MONEY_COLUMNS}
        totals["council"] = term("words", "wales", self.lang)
        totals["pct_change"] = round(100 * totals["change"] / totals["base_aef"], PCT_DECIMALS)
        return self.sheet(name, table, kinds, totals=totals, freeze_columns=2)

    def columns_sheet(self, columns) -> None:
        """Every column key used in the workbook with its English and Welsh label."""
        frame = pl.DataFrame(
            {
                term("words", "column", self.lang): list(columns),
                "English": [column_label(c, "en") for c in columns],
                "Cymraeg": [column_label(c, "cy") for c in columns],
            }
        )
        self.sheet(term("words", "columns_sheet", self.lang), frame, {})

    def provenance_sheet(self, provenance: dict) -> None:
        rows = flatten(stamped(provenance))
        frame = pl.DataFrame(
            {term("words", "field", self.lang): [k for k, _ in rows], term("words", "value", self.lang): [v for _, v in rows]}
        )
        self.sheet(term("words", "provenance_sheet", self.lang), frame, {})

    def close(self) -> None:
        import xlsxwriter.exceptions

        # On a full disk the half-written zip file complains again when it is freed, after
        # the error: keep that quiet until it is gone, so the failure is reported once.
        hook, sys.unraisablehook = sys.unraisablehook, lambda _: None
        try:
            try:
                self.workbook.close()
                failure = None
            except (xlsxwriter.exceptions.FileCreateError, OSError) as exc:
                failure = str(exc)
                self.workbook.fileclosed = True
            gc.collect()
        finally:
            sys.unraisablehook = hook
        if failure is not None:
            raise OSError(failure)


# --------------------------------------------------------------------------- comparisons

COMPARISON_MONEY = ("aef_baseline", "aef", "difference", "floor_topup_baseline", "floor_topup")


def rounded_by_group(frame: pl.DataFrame, money: tuple[str, ...], by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Money columns in whole pounds, by largest remainder within each group of ``by``
    (e.g. each scenario or year), so that each group's rows add up to its rounded total."""
    if frame.height == 0:
        return frame
    keys = [tuple(row) for row in frame.select(by).iter_rows()] if by else [()] * frame.height
    groups: dict[tuple, list[int]] = {}
    for index, key in enumerate(keys):
        groups.setdefault(key, []).append(index)
    columns = []
    for column in money:
        values = frame[column].to_numpy().astype(np.float64)
        rounded = np.empty_like(values)
        for rows in groups.values():
            rounded[rows] = largest_remainder(values[rows])
        columns.append(pl.Series(column, rounded.astype(np.int64)))
    return frame.with_columns(columns)


def rounded_comparison(comparison, lang: str = "en", decompositions=None) -> pl.DataFrame:
    """The long comparison table as exported: whole pounds by largest remainder within each
    scenario; with decompositions, one ``cause_<name>`` column per cause (0 where unchanged)."""
    from dsg.formula.decompose import CAUSES

    table = rounded_by_group(comparison.long_table(lang), COMPARISON_MONEY, ("scenario",))
    frames = []
    for index, label in enumerate(comparison.labels):
        part = table.filter(pl.col("scenario") == label)
        if decompositions is not None:
            parts = decompositions[index].parts
            part = part.with_columns(
                pl.Series(
                    f"cause_{cause}",
                    largest_remainder(parts[cause].to_numpy()).astype(np.int64) if cause in parts.columns else np.zeros(part.height, np.int64),
                )
                for cause, _ in CAUSES
            )
        frames.append(part)
    return pl.concat(frames).with_columns(pl.col("pct_difference").round(PCT_DECIMALS))


def comparison_provenance(comparison) -> dict:
    record = provenance_record(comparison.baseline)
    for key in ("scenario_file", "scenario_name", "scenario_sha256", "settlement", "notional_band_d", "aef_total", "floor_cost"):
        record.pop(key, None)
    record["baseline"] = {"label": comparison.baseline_label, **scenario_provenance(comparison.baseline)}
    record["scenarios"] = {
        str(number): {"label": label, **scenario_provenance(allocation)}
        for number, (label, allocation) in enumerate(zip(comparison.labels, comparison.scenarios), start=1)
    }
    return record


def scenario_provenance(allocation: Allocation) -> dict:
    source = allocation.dataset.provenance
    return {
        "file": source.get("scenario_file", ""),
        "sha256": source.get("scenario_sha256", ""),
        "settlement": allocation.dataset.settlement.as_dict(),
        "floor_cost": allocation.floor_cost,
    }


def write_comparison(comparison, path: str | Path, lang: str = "en", decompositions=None) -> Path:
    """CSV / Parquet: the long comparison table. XLSX: the finance-team workbook
    (summary, allocations, differences, decomposition, IBAs, indicators, provenance)."""
    raise_if(output_path_problems(path))
    target = Path(path)
    provenance = comparison_provenance(comparison)
    if target.suffix.lower() != ".xlsx":
        write_table(rounded_comparison(comparison, lang, decompositions), provenance, target)
        return target
    with writing(target) as temporary:
        comparison_workbook(comparison, temporary, lang, decompositions, provenance)
    return target


def comparison_workbook(comparison, path: Path, lang: str, decompositions, provenance: dict) -> None:
    from dsg.formula.arrays import service_ibas, to_inputs
    from dsg.formula.compare import COMPARISON_COLUMNS

    book = Book(path, lang)
    words = lambda key, **p: term("words", key, lang).format(**p)  # noqa: E731
    used_columns: list[str] = []

    summary = pl.DataFrame(comparison.wales_summary(lang))
    money = {c: "money" for c in ("aef_baseline", "aef", "difference", "floor_cost_baseline", "floor_cost", "largest_gain", "largest_loss")}
    summary = summary.with_columns(pl.col(c).map_elements(round_half_up, return_dtype=pl.Float64) for c in money)
    summary = summary.with_columns(
        pl.Series("sheet", [words("scenario_sheet", number=n) for n in range(1, summary.height + 1)])
    ).select("sheet", *[c for c in summary.columns if c != "sheet"])
    kinds = money | {"pct_difference": "pct", "gaining": "int", "losing": "int", "on_floor": "int"}
    headers = [words("sheet") if c == "sheet" else column_label(c, lang) for c in summary.columns]
    book.sheet(words("summary_sheet"), summary, kinds, headers=headers, freeze_columns=2)
    used_columns += [c for c in summary.columns if c != "sheet"]

    book.allocation_sheet(words("baseline"), rounded_table(comparison.baseline, lang))
    for number, allocation in enumerate(comparison.scenarios, start=1):
        book.allocation_sheet(words("scenario_sheet", number=number), rounded_table(allocation, lang))
    used_columns += list(ALLOCATION_COLUMNS)

    differences = rounded_comparison(comparison, lang)
    kinds = {c: "money" for c in COMPARISON_MONEY} | {"pct_difference": "pct", "rank_baseline": "int", "rank": "int", "rank_change": "int"}
    book.sheet(words("differences_sheet"), differences, kinds, headers=[column_label(c, lang) for c in differences.columns], freeze_columns=3)
    used_columns += list(COMPARISON_COLUMNS)

    if decompositions is not None:
        frames = []
        for label, decomposition in zip(comparison.labels, decompositions):
            table = decomposition.table(lang)
            frames.append(
                table.with_columns(
                    pl.lit(label).alias("scenario"),
                    pl.lit(term("causes", decomposition.method, lang)).alias("method"),
                ).select("scenario", "method", *table.columns)
            )
        parts = pl.concat(frames, how="diagonal").fill_null(0.0)
        cause_columns = [c for c in parts.columns if c not in ("scenario", "method", "ons_code", "council")]
        headers = [term("causes", c, lang) if c in cause_columns else column_label(c, lang) for c in parts.columns]
        book.sheet(words("decomposition_sheet"), parts, {c: "pounds2" for c in cause_columns}, headers=headers, freeze_columns=4)

    ibas = []
    for label, allocation in [(comparison.baseline_label, comparison.baseline), *zip(comparison.labels, comparison.scenarios)]:
        inputs = to_inputs(allocation.dataset)
        values = service_ibas(inputs)
        names = allocation.dataset.services["name_cy" if lang == "cy" else "service"].to_list()
        ibas.append(
            allocation.councils.select("ons_code", pl.col(f"name_{lang}").alias("council"))
            .with_columns(pl.lit(label).alias("scenario"))
            .with_columns(*(pl.Series(name, values[s]) for s, name in enumerate(names)), pl.Series("fixed", inputs.fixed), allocation.councils["ssa"])
            .select("scenario", "ons_code", "council", *names, "fixed", "ssa")
        )
    ibas_frame = pl.concat(ibas)
    numeric = [c for c in ibas_frame.columns if c not in ("scenario", "ons_code", "council")]
    headers = [
        term("steps", "fixed", lang) if c == "fixed" else column_label(c, lang) if c in ("scenario", "ons_code", "council", "ssa") else c
        for c in ibas_frame.columns
    ]
    book.sheet(words("ibas_sheet"), ibas_frame, {c: "pounds2" for c in numeric}, headers=headers, freeze_columns=3)

    indicators = comparison_indicators(comparison, lang)
    book.sheet(
        words("indicators_sheet"), indicators, {c: "number" for c in indicators.columns[2:]},
        headers=[column_label(c, lang) for c in indicators.columns[:2]] + indicators.columns[2:], freeze_columns=2,
    )
    book.columns_sheet(list(dict.fromkeys(used_columns)))
    book.provenance_sheet(provenance)
    book.close()


def comparison_indicators(comparison, lang: str) -> pl.DataFrame:
    """The indicators any settlement of the comparison uses, one column each, by council."""
    used: list[str] = []
    for allocation in (comparison.baseline, *comparison.scenarios):
        settlement = allocation.dataset.settlement
        used += [*allocation.dataset.weights["indicator"].to_list(), settlement.ndr_indicator, settlement.taxbase_indicator]
    used = list(dict.fromkeys(used))
    dataset = comparison.baseline.dataset
    wide = (
        dataset.indicators.filter(pl.col("indicator").is_in(used))
        .pivot(on="indicator", index="ons_code", values="value")
    )
    return (
        dataset.councils.select("ons_code", pl.col(f"name_{lang}").alias("council"))
        .join(wide, on="ons_code", how="left")
        .select("ons_code", "council", *used)
    )


# --------------------------------------------------------------------------- grant reports

GRANT_FILES = ("dehypothecation", "consolidation", "multiyear", "hypothecation")


def grant_tables(report, lang: str = "en") -> dict[str, pl.DataFrame]:
    """The four report tables as exported: whole pounds adding up within each year and grant,
    percentages to 6 decimals."""
    year = ("year",) if report.multi_year else ()
    return {
        "dehypothecation": rounded_by_group(report.dehypothecation(lang), ("grant_before", "aef_gain", "net"), (*year, "grant")),
        "consolidation": rounded_by_group(report.consolidation(lang), ("old", "new", "change"), (*year, "grant")).with_columns(
            pl.col("pct_change").round(PCT_DECIMALS)
        ),
        "multiyear": rounded_by_group(report.multiyear(lang), ("base_aef", "aef", "change", "floor_topup"), ("year",)).with_columns(
            pl.col("pct_change").round(PCT_DECIMALS)
        ),
        "hypothecation": rounded_by_group(
            report.hypothecation(lang), ("aef_before", "grants_before", "aef_after", "grants_after")
        ).with_columns(pl.col("level_before", "level_after").round(PCT_DECIMALS)),
    }


def grant_provenance(report) -> dict:
    source = report.dataset.provenance
    return {
        "dsg_version": dsg_version(),
        "dataset": source.get("dataset", ""),
        "source": source.get("source", ""),
        "sha256": source.get("sha256", ""),
        "licence": source.get("licence", ""),
        "scenario_file": report.scenario.source,
        "scenario_name": report.scenario.name,
        "scenario_sha256": report.scenario.sha256,
        "years": ", ".join(report.path.years),
    }


def write_grant_report(report, directory: str | Path, lang: str = "en") -> list[Path]:
    """dehypothecation.csv, consolidation.csv, multiyear.csv and hypothecation.csv (each
    with its provenance sidecar), and grants.xlsx holding all of them."""
    folder = Path(directory)
    if not folder.is_dir():
        raise_if([Problem(str(directory), "not_a_folder")])
    tables = grant_tables(report, lang)
    provenance = grant_provenance(report)
    written = [folder / f"{name}.csv" for name in GRANT_FILES] + [folder / "grants.xlsx"]
    with ExitStack() as files:
        for name, target in zip(GRANT_FILES, written):
            write_table_into(files, tables[name], provenance, target)
        book = Book(files.enter_context(writing(written[-1])), lang)
        kinds = {
            c: "money"
            for c in ("grant_before", "aef_gain", "net", "old", "new", "change", "base_aef", "aef", "floor_topup",
                      "aef_before", "grants_before", "aef_after", "grants_after")
        } | {c: "pct" for c in ("pct_change", "level_before", "level_after")}
        for name in GRANT_FILES:
            frame = tables[name].with_columns(pl.col(pl.Boolean).cast(pl.String))
            book.sheet(term("words", f"{name}_sheet", lang), frame, kinds,
                       headers=[column_label(c, lang) for c in frame.columns], freeze_columns=2)
        book.columns_sheet(list(dict.fromkeys(c for frame in tables.values() for c in frame.columns)))
        book.provenance_sheet(provenance)
        book.close()
    return written


def write_frame(frame: pl.DataFrame, path: str | Path, provenance: dict, lang: str = "en", kinds: dict | None = None) -> Path:
    """Any result table to CSV / Parquet (with provenance) or a one-sheet XLSX."""
    raise_if(output_path_problems(path))
    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        write_table(frame, provenance, target)
        return target
    with writing(target) as temporary:
        book = Book(temporary, lang)
        book.sheet(term("words", "summary_sheet", lang), frame, kinds or {},
                   headers=[column_label(c, lang) for c in frame.columns], freeze_columns=2)
        book.columns_sheet(list(frame.columns))
        book.provenance_sheet(provenance)
        book.close()
    return target


def dataset_provenance(dataset, **extra) -> dict:
    """Provenance of a result computed from a dataset (and a scenario, if applied)."""
    source = dataset.provenance
    keys = ("dataset", "source", "sha256", "licence", "scenario_file", "scenario_name", "scenario_sha256")
    return {"dsg_version": dsg_version(), **{k: source[k] for k in keys if k in source}, **extra}
