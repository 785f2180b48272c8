"""XLSX workbooks a finance team can open and circulate: one Book class, and a layout per result.

Layouts take tables that are already computed and rounded (dsg.output.export) and only
place them: headers in the chosen language, number formats, frozen panes, a Wales row,
a sheet that maps every column label to its name, and a provenance sheet.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import polars as pl

from dsg.formula.settle import MONEY_COLUMNS
from dsg.i18n import name_of
from dsg.output.formats import EXCEL, PCT_DECIMALS
from dsg.output.provenance import flatten, stamped

# Characters Excel refuses in sheet names, and its length limit.
SHEET_FORBIDDEN = "[]:*?/\\"
SHEET_NAME_LIMIT = 31


def sheet_name(name: str) -> str:
    """A name Excel accepts: forbidden characters dropped, at most 31 characters."""
    cleaned = "".join(c for c in name if c not in SHEET_FORBIDDEN and c.isprintable()).strip("'")
    return cleaned[:SHEET_NAME_LIMIT]


class Book:
    """A macro-free workbook with formatted money, frozen headers and set column widths."""

    def __init__(self, path: Path, lang: str):
        import xlsxwriter

        self.workbook = xlsxwriter.Workbook(str(path))
        self.lang = lang
        self.formats = {kind: self.workbook.add_format({"num_format": f}) for kind, f in EXCEL.items()}
        self.totals = {
            kind: self.workbook.add_format({"num_format": f, "bold": True, "top": 1}) for kind, f in EXCEL.items()
        }
        self.header = self.workbook.add_format({"bold": True, "text_wrap": True, "valign": "top", "bottom": 1})
        self.names: set[str] = set()  # sheet names used, compared as Excel does (any case)
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
        """One table: a header row, then the frame; ``kinds`` maps columns to EXCEL
        keys (others are text); ``totals`` adds a bold row of values (not formulas: a
        workbook written here has no cached formula results, and some viewers would show
        zeros)."""
        sheet = self.workbook.add_worksheet(self.unique_name(name))
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

    def unique_name(self, name: str) -> str:
        """A sheet name Excel accepts and the book has not used: "2026-27", then "2026-27 (2)"."""
        base = sheet_name(name) or str(len(self.names) + 1)
        candidate, number = base, 1
        while candidate.casefold() in self.names:
            number += 1
            suffix = f" ({number})"
            candidate = base[: SHEET_NAME_LIMIT - len(suffix)] + suffix
        self.names.add(candidate.casefold())
        return candidate

    def allocation_sheet(self, name: str, table: pl.DataFrame):
        """A SPEC §4 table (already rounded), headed by the columns' labels in the book's
        language (the columns sheet maps each label to its name), with a Wales row."""
        kinds = dict.fromkeys(MONEY_COLUMNS, "money") | {"pct_change": "pct", "rank": "int"}
        totals: dict = {c: int(table[c].sum()) for c in MONEY_COLUMNS}
        totals["council"] = name_of("words", "wales", self.lang)
        totals["pct_change"] = round(100 * totals["change"] / totals["base_aef"], PCT_DECIMALS)
        headers = [name_of("columns", c, self.lang) for c in table.columns]
        return self.sheet(name, table, kinds, headers=headers, totals=totals, freeze_columns=2)

    def columns_sheet(self, columns) -> None:
        """Every column key used in the workbook with its English and Welsh label."""
        frame = pl.DataFrame(
            {
                name_of("words", "column", self.lang): list(columns),
                "English": [name_of("columns", c, "en") for c in columns],
                "Cymraeg": [name_of("columns", c, "cy") for c in columns],
            }
        )
        self.sheet(name_of("words", "columns_sheet", self.lang), frame, {})

    def provenance_sheet(self, provenance: dict) -> None:
        rows = flatten(stamped(provenance))
        frame = pl.DataFrame(
            {
                name_of("words", "field", self.lang): [k for k, _ in rows],
                name_of("words", "value", self.lang): [v for _, v in rows],
            }
        )
        self.sheet(name_of("words", "provenance_sheet", self.lang), frame, {})

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
                # FileCreateError wraps the OSError: keep its number and words (a plain
                # "No space left on device", the same as the other formats say); only the
                # words are kept, so the half-written zip file is freed below, in the quiet.
                cause = exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else exc
                failure = OSError(getattr(cause, "errno", None), getattr(cause, "strerror", None) or str(cause))
                del cause
                self.workbook.fileclosed = True
            gc.collect()
        finally:
            sys.unraisablehook = hook
        if failure is not None:
            raise failure


# --------------------------------------------------------------------------- layouts


def allocation_workbook(
    path: Path, sheets: list[tuple[str, pl.DataFrame]], columns, provenance: dict, lang: str
) -> None:
    """One SPEC §4 sheet per settlement (one per year of a path), then columns and provenance."""
    book = Book(path, lang)
    for name, table in sheets:
        book.allocation_sheet(name, table)
    book.columns_sheet(columns)
    book.provenance_sheet(provenance)
    book.close()


COMPARISON_KINDS = {
    "aef_baseline": "money",
    "aef": "money",
    "difference": "money",
    "floor_topup_baseline": "money",
    "floor_topup": "money",
    "grants_baseline": "money",
    "grants": "money",
    "net_difference": "money",
    "floor_cost_baseline": "money",
    "floor_cost": "money",
    "largest_gain": "money",
    "largest_loss": "money",
    "pct_difference": "pct",
    "rank_baseline": "int",
    "rank": "int",
    "rank_change": "int",
    "gaining": "int",
    "losing": "int",
    "on_floor": "int",
    "difference_per_head": "pounds2",
    "difference_per_band_d": "pounds2",
}


def comparison_workbook(
    path: Path,
    lang: str,
    summary: pl.DataFrame,
    allocations: list[tuple[str, pl.DataFrame]],
    differences: pl.DataFrame,
    decomposition: pl.DataFrame | None,
    ibas: pl.DataFrame,
    indicators: pl.DataFrame,
    provenance: dict,
) -> None:
    """The finance-team workbook of a comparison: summary, each side's allocation, the
    differences, the decomposition, IBAs, indicators, columns and provenance."""
    book = Book(path, lang)
    used: list[str] = []
    headers = [
        name_of("words", "sheet", lang) if c == "sheet" else name_of("columns", c, lang) for c in summary.columns
    ]
    book.sheet(name_of("words", "summary_sheet", lang), summary, COMPARISON_KINDS, headers=headers, freeze_columns=2)
    used += [c for c in summary.columns if c != "sheet"]
    for name, table in allocations:
        book.allocation_sheet(name, table)
        used += table.columns
    book.sheet(
        name_of("words", "differences_sheet", lang),
        differences,
        COMPARISON_KINDS,
        headers=[name_of("columns", c, lang) for c in differences.columns],
        freeze_columns=3,
    )
    used += differences.columns
    if decomposition is not None:
        causes = [c for c in decomposition.columns if c not in ("scenario", "method", "ons_code", "council")]
        headers = [
            name_of("causes", c, lang) if c in causes else name_of("columns", c, lang) for c in decomposition.columns
        ]
        book.sheet(
            name_of("words", "decomposition_sheet", lang),
            decomposition,
            dict.fromkeys(causes, "pounds2"),
            headers=headers,
            freeze_columns=4,
        )
    identity = ("scenario", "ons_code", "council")
    numeric = [c for c in ibas.columns if c not in identity]
    headers = [
        name_of("steps", "fixed", lang)
        if c == "fixed"
        else name_of("columns", c, lang)
        if c in (*identity, "ssa")
        else c
        for c in ibas.columns
    ]
    book.sheet(
        name_of("words", "ibas_sheet", lang), ibas, dict.fromkeys(numeric, "pounds2"), headers=headers, freeze_columns=3
    )
    book.sheet(
        name_of("words", "indicators_sheet", lang),
        indicators,
        dict.fromkeys(indicators.columns[2:], "number"),
        headers=[name_of("columns", c, lang) for c in indicators.columns[:2]] + indicators.columns[2:],
        freeze_columns=2,
    )
    book.columns_sheet(list(dict.fromkeys(used)))
    book.provenance_sheet(provenance)
    book.close()


GRANT_KINDS = dict.fromkeys(
    (
        "grant_before",
        "aef_gain",
        "net",
        "old",
        "new",
        "change",
        "base_aef",
        "aef",
        "floor_topup",
        "aef_before",
        "grants_before",
        "aef_after",
        "grants_after",
    ),
    "money",
) | dict.fromkeys(("pct_change", "level_before", "level_after"), "pct")


def grant_workbook(
    path: Path, lang: str, tables: dict[str, pl.DataFrame], provenance: dict, grant_names: dict[str, str] | None = None
) -> None:
    """The grant report's tables, a sheet each; ``grant_names`` gives each grant's name in
    ``lang`` (the CSV files keep the names the dataset and scenario use)."""
    book = Book(path, lang)
    yes, no = name_of("words", "yes", lang), name_of("words", "no", lang)
    for name, table in tables.items():
        frame = table.with_columns(pl.col(pl.Boolean).replace_strict({True: yes, False: no}, return_dtype=pl.String))
        if grant_names and "grant" in frame.columns:
            frame = frame.with_columns(pl.col("grant").replace(grant_names))
        book.sheet(
            name_of("words", f"{name}_sheet", lang),
            frame,
            GRANT_KINDS,
            headers=[name_of("columns", c, lang) for c in frame.columns],
            freeze_columns=2,
        )
    book.columns_sheet(list(dict.fromkeys(c for frame in tables.values() for c in frame.columns)))
    book.provenance_sheet(provenance)
    book.close()


def frame_workbook(
    path: Path, lang: str, frame: pl.DataFrame, kinds: dict[str, str], provenance: dict, values: tuple[str, ...] = ()
) -> None:
    """Any one result table (a sweep, a Monte Carlo summary) on one sheet. ``values`` are
    columns named by a value (a sweep's weights), headed as they are; the rest are glossary
    columns, headed in ``lang`` and listed on the columns sheet."""
    book = Book(path, lang)
    book.sheet(
        name_of("words", "summary_sheet", lang),
        frame,
        kinds,
        headers=[c if c in values else name_of("columns", c, lang) for c in frame.columns],
        freeze_columns=2,
    )
    book.columns_sheet([c for c in frame.columns if c not in values])
    book.provenance_sheet(provenance)
    book.close()
