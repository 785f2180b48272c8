"""XLSX workbooks a finance team can print and circulate: one Book class, a layout per result.

Layouts take tables that are already computed and rounded (dsg.output.export) and only place
them. Every sheet is laid out the same way: a title row (what, which scenario against which
baseline), a line with the dataset, the date and the units, then an Excel table (filters, the
header in the chosen language, numeric headers right-aligned) and, for council tables, a Wales
row under it. Pages are A4 landscape, one page wide, with the header row and the first columns
repeated and a footer giving the page and the provenance fingerprint. The Columns sheet maps
each header to its SPEC name; the Provenance sheet holds the record.
"""

from __future__ import annotations

import gc
import re
import sys
from collections.abc import Callable
from pathlib import Path

import polars as pl

from dsg.formula.settle import MONEY_COLUMNS
from dsg.i18n import indicator_label, name_of
from dsg.output.provenance import fingerprint, flatten, stamped

# Characters Excel refuses in sheet names, and its length limit.
SHEET_FORBIDDEN = "[]:*?/\\"
SHEET_NAME_LIMIT = 31
# Excel number formats by kind of column. A "pct" column holds percentages (3.6 for 3.6 %); the
# workbook stores them as fractions (0.036) under a percentage format, as Excel users expect.
EXCEL = {
    "money": "#,##0",
    "pounds2": "#,##0.00",
    "pct": "0.0%",
    "fraction": "0.0%",  # a share or probability already between 0 and 1
    "share": "0.0000",
    "int": "0",
    "number": "#,##0.########",
}
# Rows above the table: the title, then the dataset, date and units.
TITLE_ROW, CONTEXT_ROW, HEADER_ROW = 0, 1, 2
A4 = 9  # Excel's paper code


def sheet_name(name: str) -> str:
    """A name Excel accepts: forbidden characters dropped, at most 31 characters."""
    cleaned = "".join(c for c in name if c not in SHEET_FORBIDDEN and c.isprintable()).strip("'")
    return cleaned[:SHEET_NAME_LIMIT]


def wales_row(
    frame: pl.DataFrame,
    kinds: dict[str, str],
    lang: str,
    label: str = "council",
    ratios: dict[str, Callable[[dict], float | None]] | None = None,
) -> dict:
    """The Wales row of a council table: the sum of each money column, ``ratios`` worked from
    those sums (a % of Wales totals, not a sum of %), and the word "Wales" under ``label``."""
    totals: dict = {c: float(frame[c].sum()) for c in frame.columns if kinds.get(c) == "money"}
    for column, ratio in (ratios or {}).items():
        value = ratio(totals)
        if value is not None:
            totals[column] = value
    totals[label] = name_of("words", "wales", lang)
    return totals


def percent_of(numerator: str, denominator: str) -> Callable[[dict], float | None]:
    """A Wales % from the Wales totals: 100 x numerator / denominator."""
    return lambda totals: 100.0 * totals[numerator] / totals[denominator] if totals.get(denominator) else None


class Book:
    """A macro-free, print-ready workbook (see the module's docstring).

    ``provenance`` gives the dataset, the fingerprint and the date on every sheet; ``subtitle``
    says which scenario against which baseline, after each sheet's own title.
    """

    def __init__(self, path: Path, lang: str, provenance: dict, subtitle: str = "", caveat: str = ""):
        import xlsxwriter

        self.workbook = xlsxwriter.Workbook(str(path))
        self.lang = lang
        self.fingerprint = fingerprint(provenance)
        self.provenance = stamped(provenance)
        self.written = self.provenance["written"][:10]
        self.dataset = str(self.provenance.get("dataset_title") or self.provenance.get("dataset", ""))
        self.subtitle = subtitle
        self.caveat = caveat  # what rests on illustrative inputs, in one line (dsg.analysis.caveats)
        add = self.workbook.add_format
        self.formats = {kind: add({"num_format": f}) for kind, f in EXCEL.items()}
        self.totals = {kind: add({"num_format": f, "bold": True, "top": 1}) for kind, f in EXCEL.items()}
        header = {"bold": True, "text_wrap": True, "valign": "bottom", "bottom": 1}
        self.header_text = add({**header, "align": "left"})
        self.header_number = add({**header, "align": "right"})
        self.title = add({"bold": True, "font_size": 13})
        self.context = add({"italic": True, "font_color": "#404040"})
        self.total_label = add({"bold": True, "top": 1})
        self.right = add({"align": "right"})
        self.names: set[str] = set()  # sheet names used, compared as Excel does (any case)

    def sheet(
        self,
        name: str,
        frame: pl.DataFrame,
        kinds: dict[str, str],
        headers: list[str] | None = None,
        title: str | None = None,
        units: str | None = None,
        totals: dict | None = None,
        freeze_columns: int = 0,
        row_kinds: list[str | None] | None = None,
    ):
        """One table on its own sheet (see the module's docstring). ``kinds`` maps columns to
        EXCEL keys (others are text); ``row_kinds`` instead gives each row's kind, for every
        column after the first (a table read top to bottom); ``totals`` is the row under the
        table (values, not formulas: a workbook written here has no cached results, and some
        viewers show 0)."""
        sheet = self.workbook.add_worksheet(self.unique_name(name))
        headers = unique_headers(headers or list(frame.columns))
        # A sheet's own title says what it shows; without one, its name and the book's subtitle.
        heading = title or (f"{name}: {self.subtitle}" if self.subtitle else name)
        sheet.write_string(TITLE_ROW, 0, heading, self.title)
        context = [self.dataset, f"{name_of('words', 'written_on', self.lang)} {self.written}"]
        used = kinds if row_kinds is None else {str(i): k for i, k in enumerate(row_kinds) if k}
        parts = [*context, units or self.default_units(used), *([self.caveat] if self.caveat else [])]
        sheet.write_string(CONTEXT_ROW, 0, " · ".join(parts), self.context)
        first = HEADER_ROW + 1
        for index, record in enumerate(frame.iter_rows()):
            for column, (key, value) in enumerate(zip(frame.columns, record)):
                if row_kinds is None or column == 0:
                    self.write(sheet, first + index, column, value, kinds.get(key), self.formats)
                else:  # a figure's column: text (a council's name) sits right, over the numbers
                    self.write(sheet, first + index, column, value, row_kinds[index], self.formats, self.right)
        last_row = HEADER_ROW + max(frame.height, 1)
        numeric = [bool(kinds.get(key)) or (row_kinds is not None and i > 0) for i, key in enumerate(frame.columns)]
        columns = [
            {"header": text, "header_format": self.header_number if number else self.header_text}
            for text, number in zip(headers, numeric)
        ]
        if frame.width:
            sheet.add_table(
                HEADER_ROW,
                0,
                last_row,
                frame.width - 1,
                {"columns": columns, "style": "Table Style Light 1", "autofilter": True, "name": self.table_name()},
            )
        if totals:
            row = last_row + 1
            for column, key in enumerate(frame.columns):
                if key in totals:
                    kind = kinds.get(key) if not isinstance(totals[key], str) else None
                    self.write(sheet, row, column, totals[key], kind, self.totals, self.total_label)
        self.page_setup(sheet, frame, kinds if row_kinds is None else {}, headers, freeze_columns, totals)
        return sheet

    def write(self, sheet, row: int, column: int, value, kind: str | None, formats: dict, text_format=None) -> None:
        """One cell: a number under its kind's format (a % as a fraction), else text; True
        and False as the words for yes and no."""
        if value is None:
            return
        if isinstance(value, bool):
            sheet.write_string(row, column, name_of("words", "yes" if value else "no", self.lang), text_format)
        elif kind is None or isinstance(value, str):
            sheet.write_string(row, column, str(value), text_format)
        else:
            number = float(value) / 100.0 if kind == "pct" else value
            sheet.write_number(row, column, number, formats[kind])

    def default_units(self, kinds: dict[str, str]) -> str:
        """The units line: £ in whole pounds, and % where there are percentages."""
        used = set(kinds.values())
        parts = []
        if "money" in used:
            parts.append(name_of("words", "units_pounds", self.lang))
        if "pounds2" in used:
            parts.append(name_of("words", "units_pounds_pence", self.lang))
        if "pct" in used:
            parts.append(name_of("words", "units_percent", self.lang))
        return "; ".join(parts) or name_of("words", "units_none", self.lang)

    def page_setup(self, sheet, frame: pl.DataFrame, kinds, headers, freeze_columns: int, totals=None) -> None:
        """Frozen panes, column widths, and what the printed page looks like."""
        sheet.freeze_panes(HEADER_ROW + 1, freeze_columns)
        for column, key in enumerate(frame.columns):
            values = [v for v in [*frame[key].to_list(), (totals or {}).get(key)] if v is not None]
            if kinds.get(key) is None:
                texts = [headers[column], *map(str, values)]
                width = max(10, min(45, max(len(t) for t in texts) + 2))
            else:
                # Wide enough for the longest figure as shown (the bold Wales total too), and
                # for the header over two lines.
                decimals = 0 if kinds.get(key) in ("money", "int", "pct") else 2
                shown = [len(f"{float(v):,.{decimals}f}") for v in values if not isinstance(v, str)]
                width = max(10, min(24, max([len(headers[column]) // 2 + 3, *(n + 2 for n in shown)])))
            sheet.set_column(column, column, width)
        sheet.set_row(HEADER_ROW, 45)
        sheet.set_landscape()
        sheet.set_paper(A4)
        sheet.fit_to_pages(1, 0)  # one page wide, as many long as it takes
        sheet.repeat_rows(HEADER_ROW)
        if freeze_columns:
            sheet.repeat_columns(0, freeze_columns - 1)
        sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
        page = name_of("words", "page_of", self.lang).format(page="&P", pages="&N")
        sheet.set_footer(f"&L&8{self.dataset} · {self.fingerprint}&R&8{page}")

    def table_name(self) -> str:
        return f"Table{len(self.names)}"

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

    def allocation_sheet(self, name: str, table: pl.DataFrame, title: str | None = None):
        """A SPEC §4 table (already rounded), headed by the columns' labels in the book's
        language (the columns sheet maps each label to its name), with a Wales row."""
        kinds = dict.fromkeys(MONEY_COLUMNS, "money") | {"pct_change": "pct", "rank": "int"}
        totals = wales_row(table, kinds, self.lang, ratios={"pct_change": percent_of("change", "base_aef")})
        headers = [name_of("columns", c, self.lang) for c in table.columns]
        return self.sheet(name, table, kinds, headers=headers, title=title or name, totals=totals, freeze_columns=2)

    def summary_sheet(self, name: str, rows: list[tuple[str, str | None, list]], heads: list[str]) -> None:
        """A summary read top to bottom: one row per figure (label, kind, a value per column)."""
        data = {"figure": [label for label, _, _ in rows]}
        data |= {f"c{i}": [values[i] for _, _, values in rows] for i in range(len(heads))}
        frame = pl.DataFrame(data, schema={c: (pl.String if c == "figure" else pl.Object) for c in data})
        self.sheet(
            name,
            frame,
            {},
            headers=[name_of("words", "figure", self.lang), *heads],
            freeze_columns=1,
            row_kinds=[kind for _, kind, _ in rows],
        )

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

    def provenance_sheet(self) -> None:
        """The provenance record, a field a row, with the fingerprint the footers print;
        numbers stored as numbers."""
        rows = [("fingerprint", self.fingerprint), *flatten(self.provenance)]
        values = [number_or_text(v) for _, v in rows]
        frame = pl.DataFrame(
            {"field": [k for k, _ in rows], "value": values}, schema={"field": pl.String, "value": pl.Object}
        )
        self.sheet(
            name_of("words", "provenance_sheet", self.lang),
            frame,
            {},
            headers=[name_of("words", "field", self.lang), name_of("words", "value", self.lang)],
            row_kinds=[None if isinstance(v, str) else "number" for v in values],
        )

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


def unique_headers(headers: list[str]) -> list[str]:
    """An Excel table needs distinct headers: a repeated one gets " (2)", " (3)"..."""
    seen: dict[str, int] = {}
    unique = []
    for header in headers:
        text = str(header) or "-"
        count = seen.get(text.casefold(), 0) + 1
        seen[text.casefold()] = count
        unique.append(text if count == 1 else f"{text} ({count})")
    return unique


# A provenance value written as a number: digits, perhaps a sign and decimals, and not so long
# that Excel would round it (a hash of digits stays text).
NUMBER = re.compile(r"-?\d{1,15}(\.\d+)?")


def number_or_text(value: str):
    return float(value) if NUMBER.fullmatch(value) else value


# --------------------------------------------------------------------------- layouts


def allocation_workbook(
    path: Path,
    sheets: list[tuple[str, pl.DataFrame]],
    columns,
    provenance: dict,
    lang: str,
    subtitle: str = "",
    caveat: str = "",
) -> None:
    """One SPEC §4 sheet per settlement (one per year of a path), then columns and provenance."""
    book = Book(path, lang, provenance, subtitle, caveat)
    word = name_of("words", "allocation_sheet", lang)
    for name, table in sheets:
        title = word if name == word else f"{word} {name}"
        book.allocation_sheet(name, table, f"{title}: {subtitle}" if subtitle else title)
    book.columns_sheet(columns)
    book.provenance_sheet()
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


def numbered(name: str, index: int, count: int) -> str:
    """A sheet's name, with the scenario's number when there are several."""
    return name if count == 1 else f"{name} {index + 1}"


def comparison_workbook(
    path: Path,
    lang: str,
    summary: pl.DataFrame,
    allocations: list[tuple[str, pl.DataFrame]],
    differences: list[pl.DataFrame],
    decompositions: list[pl.DataFrame] | None,
    ibas: list[tuple[str, pl.DataFrame]],
    indicators: pl.DataFrame,
    provenance: dict,
    labels: list[str],
    baseline_label: str,
    per_unit_totals: list[dict] | None = None,
    caveat: str = "",
) -> None:
    """The finance-team workbook of a comparison: summary, each side's allocation, and per
    scenario its differences and decomposition, each side's IBAs, the indicators, columns and
    provenance. Every council table has its Wales row; ``per_unit_totals`` gives, per
    scenario, the Wales figures per head and per Band D (worked from Wales totals)."""
    against = name_of("words", "against", lang)
    subtitle = labels[0] + f" {against} " + baseline_label if len(labels) == 1 else ""
    book = Book(path, lang, provenance, subtitle, caveat)
    used: list[str] = []
    figures = [c for c in summary.columns if c not in ("scenario", "sheet")]
    rows: list[tuple[str, str | None, list]] = [(name_of("words", "sheet", lang), None, summary["sheet"].to_list())]
    rows += [(name_of("columns", c, lang), COMPARISON_KINDS.get(c), summary[c].to_list()) for c in figures]
    book.summary_sheet(name_of("words", "summary_sheet", lang), rows, summary["scenario"].to_list())
    used += figures
    allocation = name_of("words", "allocation_sheet", lang)
    for (name, table), label in zip(allocations, [baseline_label, *labels]):
        book.allocation_sheet(name, table, f"{allocation}: {label}")
        used += table.columns
    count = len(differences)
    for index, table in enumerate(differences):
        title = name_of("words", "differences_sheet", lang)
        ratios = {"pct_difference": percent_of("difference", "aef_baseline")}
        book.sheet(
            numbered(title, index, count),
            table,
            COMPARISON_KINDS,
            headers=[name_of("columns", c, lang) for c in table.columns],
            title=f"{title}: {labels[index]} {against} {baseline_label}",
            totals=wales_row(table, COMPARISON_KINDS, lang, ratios=ratios) | (per_unit_totals or [{}] * count)[index],
            freeze_columns=2,
        )
        used += table.columns
    for index, table in enumerate(decompositions or []):
        title = name_of("words", "decomposition_sheet", lang)
        causes = [c for c in table.columns if c not in ("ons_code", "council")]
        kinds = dict.fromkeys(causes, "money")
        book.sheet(
            numbered(title, index, count),
            table,
            kinds,
            headers=[name_of("causes", c, lang) if c in causes else name_of("columns", c, lang) for c in table.columns],
            title=f"{title}: {labels[index]} {against} {baseline_label}",
            totals=wales_row(table, kinds, lang),
            freeze_columns=2,
        )
    for side, table in ibas:
        numeric = [c for c in table.columns if c not in ("ons_code", "council")]
        kinds = dict.fromkeys(numeric, "money")
        headers = [
            name_of("steps", "fixed", lang)
            if c == "fixed"
            else name_of("columns", c, lang)
            if c in ("ons_code", "council", "ssa")
            else c
            for c in table.columns
        ]
        title = name_of("words", "ibas_sheet", lang)
        book.sheet(
            f"{title} {side}" if side else title,
            table,
            kinds,
            headers=headers,
            title=f"{title}: {side}",
            totals=wales_row(table, kinds, lang),
            freeze_columns=2,
        )
    numbers = dict.fromkeys(indicators.columns[2:], "number")
    book.sheet(
        name_of("words", "indicators_sheet", lang),
        indicators,
        numbers,
        headers=[name_of("columns", c, lang) for c in indicators.columns[:2]]
        + [indicator_label(c, lang) for c in indicators.columns[2:]],
        totals={**{c: float(indicators[c].sum()) for c in numbers}, "council": name_of("words", "wales", lang)},
        freeze_columns=2,
    )
    book.columns_sheet(list(dict.fromkeys(used)))
    book.provenance_sheet()
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


def share_of(totals: dict, grants: str, aef: str) -> float | None:
    """The Wales share of external funding that is hypothecated, in %."""
    whole = totals[aef] + totals[grants]
    return 100.0 * totals[grants] / whole if whole else None


# How each grant table's Wales row works out its percentages from the Wales totals.
GRANT_RATIOS: dict[str, dict[str, Callable[[dict], float | None]]] = {
    "consolidation": {"pct_change": percent_of("change", "old")},
    "multiyear": {"pct_change": percent_of("change", "base_aef")},
    "hypothecation": {
        "level_before": lambda t: share_of(t, "grants_before", "aef_before"),
        "level_after": lambda t: share_of(t, "grants_after", "aef_after"),
    },
}
# Each table is cut into one sheet per group of these columns (a year, a grant), so that every
# sheet is one set of councils with its own Wales row.
GRANT_GROUPS = ("year", "grant")


def grant_workbook(
    path: Path,
    lang: str,
    tables: dict[str, pl.DataFrame],
    provenance: dict,
    grant_names: dict[str, str] | None = None,
    caveat: str = "",
) -> None:
    """The grant report's tables, a sheet per table and group (year, grant); ``grant_names``
    gives each grant's name in ``lang`` (the CSV files keep the names the dataset and
    scenario use)."""
    book = Book(path, lang, provenance, caveat=caveat)
    for name, table in tables.items():
        frame = table
        if grant_names and "grant" in frame.columns:
            frame = frame.with_columns(pl.col("grant").replace(grant_names))
        groups = [c for c in GRANT_GROUPS if c in frame.columns]
        parts = frame.partition_by(groups, maintain_order=True, as_dict=True) if groups else {(): frame}
        title = name_of("words", f"{name}_sheet", lang)
        for index, (key, part) in enumerate(parts.items()):
            shown = part.drop(groups)
            what = ", ".join(str(k) for k in key)
            book.sheet(
                numbered(title, index, len(parts)),
                shown,
                GRANT_KINDS,
                headers=[name_of("columns", c, lang) for c in shown.columns],
                title=f"{title}: {what}" if what else title,
                totals=wales_row(shown, GRANT_KINDS, lang, ratios=GRANT_RATIOS.get(name)),
                freeze_columns=2,
            )
    book.columns_sheet(list(dict.fromkeys(c for frame in tables.values() for c in frame.columns)))
    book.provenance_sheet()
    book.close()


def frame_workbook(
    path: Path,
    lang: str,
    frame: pl.DataFrame,
    kinds: dict[str, str],
    provenance: dict,
    values: tuple[str, ...] = (),
    caveat: str = "",
) -> None:
    """Any one result table (a sweep, a Monte Carlo summary) on one sheet. ``values`` are
    columns named by a value (a sweep's weights), headed as they are; the rest are glossary
    columns, headed in ``lang`` and listed on the columns sheet."""
    book = Book(path, lang, provenance, caveat=caveat)
    book.sheet(
        name_of("words", "summary_sheet", lang),
        frame,
        kinds,
        headers=[c if c in values else name_of("columns", c, lang) for c in frame.columns],
        freeze_columns=2,
    )
    book.columns_sheet([c for c in frame.columns if c not in values])
    book.provenance_sheet()
    book.close()
