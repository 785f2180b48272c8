"""Exported allocation tables: rounding, CSV / Parquet / XLSX, atomic writes.

Money leaves dsg in whole pounds, each column rounded by largest remainder so that the
council rows add up exactly to the rounded Wales total (SPEC §4): what a finance officer
checks first when a table opens in Excel.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import polars as pl

from dsg.errors import InputError, Problem, raise_if
from dsg.formula.settlement import ALLOCATION_COLUMNS, MONEY_COLUMNS, Allocation
from dsg.i18n import column_label, term

FORMATS = (".csv", ".parquet", ".xlsx")
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
    return math.copysign(math.floor(scaled + 0.5), value) * unit


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


def output_path_problems(path: str | Path) -> list[Problem]:
    """Why the exporters could not write ``path`` (empty when they can), checked before any work."""
    target = Path(path)
    problems = []
    if target.suffix.lower() not in FORMATS:
        problems.append(Problem(str(path), "unknown_extension", params={"value": target.name, "allowed": ", ".join(FORMATS)}))
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        problems.append(Problem(str(path), "cannot_write", params={"reason": f"no folder {parent}"}))
    return problems


@contextmanager
def atomic_path(path: Path):
    """A temporary path beside ``path`` that replaces it only if writing succeeds."""
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(descriptor)
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def write_allocation(allocation: Allocation, path: str | Path, lang: str = "en") -> Path:
    """Write the SPEC §4 table to CSV, Parquet or XLSX (chosen by extension), atomically."""
    raise_if(output_path_problems(path))
    target = Path(path)
    table = rounded_table(allocation, lang)
    provenance = provenance_record(allocation)
    suffix = target.suffix.lower()
    try:
        with atomic_path(target) as temporary:
            if suffix == ".csv":
                table.write_csv(temporary)
            elif suffix == ".parquet":
                metadata = {"dsg_provenance": json.dumps(provenance, sort_keys=True, default=str)}
                table.write_parquet(temporary, metadata=metadata)
            else:
                write_xlsx(table, provenance, temporary, lang)
    except OSError as exc:
        # A full disk or a file open in Excel: say so plainly; the old file is untouched.
        raise InputError([Problem(str(path), "cannot_write", params={"reason": exc.strerror or str(exc)})]) from None
    return target


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


def write_xlsx(table: pl.DataFrame, provenance: dict, path: Path, lang: str) -> None:
    """One macro-free workbook: the allocation with a Wales row, the column meanings, provenance."""
    import xlsxwriter
    import xlsxwriter.exceptions

    workbook = xlsxwriter.Workbook(str(path))
    bold = workbook.add_format({"bold": True})
    header = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top", "bottom": 1})
    money = workbook.add_format({"num_format": "#,##0"})
    money_total = workbook.add_format({"num_format": "#,##0", "bold": True, "top": 1})
    percent = workbook.add_format({"num_format": "0.0000"})
    percent_total = workbook.add_format({"num_format": "0.0000", "bold": True, "top": 1})
    total_label = workbook.add_format({"bold": True, "top": 1})

    sheet = workbook.add_worksheet(term("words", "allocation_sheet", lang))
    for column, name in enumerate(ALLOCATION_COLUMNS):
        sheet.write_string(0, column, name, header)
    for row, record in enumerate(table.iter_rows(), start=1):
        for column, (name, value) in enumerate(zip(ALLOCATION_COLUMNS, record)):
            if name in MONEY_COLUMNS:
                sheet.write_number(row, column, value, money)
            elif name == "pct_change":
                sheet.write_number(row, column, value, percent)
            elif name == "rank":
                sheet.write_number(row, column, value)
            else:
                sheet.write_string(row, column, value)
    # The Wales row holds values, not formulas: a workbook written here has no cached
    # formula results, and some viewers would show zeros.
    wales = table.height + 1
    sheet.write_string(wales, 1, term("words", "wales", lang), total_label)
    for column, name in enumerate(ALLOCATION_COLUMNS):
        if name in MONEY_COLUMNS:
            sheet.write_number(wales, column, int(table[name].sum()), money_total)
    change, base = int(table["change"].sum()), int(table["base_aef"].sum())
    sheet.write_number(wales, ALLOCATION_COLUMNS.index("pct_change"), round(100 * change / base, PCT_DECIMALS), percent_total)
    sheet.freeze_panes(1, 2)
    sheet.set_column(0, 0, 11)
    sheet.set_column(1, 1, 24)
    sheet.set_column(2, len(ALLOCATION_COLUMNS) - 1, 15)
    sheet.set_row(0, 30)

    columns = workbook.add_worksheet(term("words", "columns_sheet", lang))
    columns.write_row(0, 0, [term("words", "column", lang), "English", "Cymraeg"], bold)
    for row, name in enumerate(ALLOCATION_COLUMNS, start=1):
        columns.write_row(row, 0, [name, column_label(name, "en"), column_label(name, "cy")])
    columns.set_column(0, 0, 22)
    columns.set_column(1, 2, 38)
    columns.freeze_panes(1, 0)

    origin = workbook.add_worksheet(term("words", "provenance_sheet", lang))
    origin.write_row(0, 0, [term("words", "field", lang), term("words", "value", lang)], bold)
    for row, (key, value) in enumerate(flatten(provenance), start=1):
        origin.write_string(row, 0, key)
        origin.write_string(row, 1, value)
    origin.set_column(0, 0, 34)
    origin.set_column(1, 1, 100)
    origin.freeze_panes(1, 0)
    try:
        workbook.close()
    except xlsxwriter.exceptions.FileCreateError as exc:
        raise OSError(str(exc)) from exc
