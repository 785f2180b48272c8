"""Print-ready workbooks (issue 13): every sheet of every workbook dsg writes, opened with
openpyxl and checked for what a finance officer prints and circulates."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from dsg.cli import main

EXAMPLES = Path(__file__).parent.parent / "examples"
HEADER_ROW = 3  # openpyxl counts from 1: title, context, header
WALES = {"en": "Wales", "cy": "Cymru"}


def invoke(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], env={"DSG_LANG": ""})
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module", params=["en", "cy"])
def workbooks(request, tmp_path_factory):
    """Every kind of workbook, in one language."""
    lang, out = request.param, tmp_path_factory.mktemp(f"books-{request.param}")
    floor, deprivation, grants = (EXAMPLES / f"{n}.toml" for n in ("floor-3.5", "deprivation", "grants"))
    invoke("run", "--out", out / "run.xlsx", "--lang", lang)
    invoke("run", "--scenario", grants, "--out", out / "path.xlsx", "--lang", lang)
    invoke("compare", "default", floor, deprivation, "--decompose", "--out", out / "compare.xlsx", "--lang", lang)
    invoke("grants", "report", "--scenario", grants, "--out", out / "grants", "--lang", lang)
    invoke("sweep", "--service", "School Services", "--indicator", "population", "--from", "0.6", "--to", "0.9",
           "--steps", "4", "--out", out / "sweep.xlsx", "--lang", lang)  # fmt: skip
    invoke("montecarlo", "--samples", "500", "--out", out / "mc.xlsx", "--lang", lang)
    paths = [out / n for n in ("run.xlsx", "path.xlsx", "compare.xlsx", "sweep.xlsx", "mc.xlsx")]
    return lang, [*paths, out / "grants" / "grants.xlsx"]


def sheets(workbooks):
    lang, paths = workbooks
    for path in paths:
        book = openpyxl.load_workbook(path)
        for sheet in book.worksheets:
            yield lang, path.name, sheet


def test_every_sheet_is_titled_and_print_ready(workbooks):
    for _lang, name, sheet in sheets(workbooks):
        where = f"{name}:{sheet.title}"
        assert sheet["A1"].value and sheet["A1"].font.b, where
        context = sheet["A2"].value
        assert "wales-2025-26" in context and ("written" in context or "ysgrifennwyd" in context), where
        setup = sheet.page_setup
        assert setup.orientation == "landscape" and setup.paperSize == 9, where
        # One page wide (1 is the default, which xlsxwriter leaves unwritten), as long as it takes.
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and setup.fitToWidth in (None, 1) and setup.fitToHeight == 0
        assert sheet.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}", where
        footer = sheet.oddFooter
        assert "&P" in footer.right.text and "&N" in footer.right.text, where
        assert len(footer.left.text.split("·")[-1].strip()) == 12, where  # the provenance fingerprint


def test_every_sheet_is_an_excel_table_with_right_aligned_numeric_headers(workbooks):
    for _lang, name, sheet in sheets(workbooks):
        where = f"{name}:{sheet.title}"
        [table] = sheet.tables.values()
        assert table.ref.startswith(f"A{HEADER_ROW}:") and table.autoFilter is not None, where
        first_data = HEADER_ROW + 1
        for column in range(1, sheet.max_column + 1):
            header = sheet.cell(row=HEADER_ROW, column=column)
            values = [sheet.cell(row=r, column=column).value for r in range(first_data, sheet.max_row + 1)]
            values = [v for v in values if v is not None]
            numeric = values and all(isinstance(v, (int, float)) for v in values)
            if numeric and header.value:
                assert header.alignment.horizontal == "right", (where, header.value)


def test_council_tables_have_a_wales_row_that_adds_up(workbooks):
    for lang, name, sheet in sheets(workbooks):
        where = f"{name}:{sheet.title}"
        headers = [c.value for c in sheet[HEADER_ROW]]
        council = {"en": "Council", "cy": "Cyngor"}[lang]
        if council not in headers or name in ("sweep.xlsx", "mc.xlsx"):
            continue
        at = headers.index(council) + 1
        last = sheet.max_row
        assert sheet.cell(row=last, column=at).value == WALES[lang], where
        rows = range(HEADER_ROW + 1, last)
        assert len(rows) == 22, where
        for column in range(1, sheet.max_column + 1):
            cell = sheet.cell(row=last, column=column)
            if cell.number_format == "#,##0" and isinstance(cell.value, (int, float)):
                total = sum(sheet.cell(row=r, column=column).value or 0 for r in rows)
                assert cell.value == pytest.approx(total, abs=0.5), (where, headers[column - 1])
                # whole pounds: money is rounded before it is written
                assert all(float(sheet.cell(row=r, column=column).value or 0).is_integer() for r in rows), where


def test_percentages_are_fractions_under_a_percent_format(workbooks):
    lang, paths = workbooks
    book = openpyxl.load_workbook(paths[0])
    sheet = book.worksheets[0]
    headers = [c.value for c in sheet[HEADER_ROW]]
    column = headers.index({"en": "Change %", "cy": "Newid %"}[lang]) + 1
    anglesey = sheet.cell(row=HEADER_ROW + 1, column=column)
    # SPEC §4 pct_change 3.603053 (tests/cases) is 0.03603053 shown as 3.6%.
    assert anglesey.number_format == "0.0%" and anglesey.value == pytest.approx(0.03603053, abs=1e-8)
    wales = sheet.cell(row=sheet.max_row, column=column)
    assert wales.value == pytest.approx(253_460_000 / 5_877_382_000, abs=1e-8)


def test_summary_reads_top_to_bottom_and_provenance_numbers_are_numbers(workbooks):
    lang, paths = workbooks
    book = openpyxl.load_workbook(paths[2])
    summary = book.worksheets[0]
    assert summary.max_column == 3  # the figure, then one column per scenario
    labels = [summary.cell(row=r, column=1).value for r in range(HEADER_ROW + 1, summary.max_row + 1)]
    floor_cost = {"en": "Floor cost", "cy": "Cost y cyllid gwaelodol"}[lang]
    row = HEADER_ROW + 1 + labels.index(floor_cost)
    # The 3.5 % floor costs 3,083,815 (tests/cases/README.md); the deprivation option 101,687,965.
    assert [summary.cell(row=row, column=c).value for c in (2, 3)] == [3_083_815, 101_687_965]
    provenance = book.worksheets[-1]
    fields = {
        provenance.cell(row=r, column=1).value: provenance.cell(row=r, column=2).value
        for r in range(HEADER_ROW + 1, provenance.max_row + 1)
    }
    assert isinstance(fields["baseline.floor_cost"], (int, float)) and fields["baseline.floor_cost"] == 0
    assert isinstance(fields["sha256"], str) and len(fields["sha256"]) == 64


def test_yes_and_no_not_true_and_false(workbooks):
    lang, paths = workbooks
    book = openpyxl.load_workbook(paths[-1])
    words = {cell for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for cell in row}
    assert not any(isinstance(w, bool) for w in words)  # (0 == False: a set would not tell)
    assert not {w for w in words if isinstance(w, str)} & {"True", "False", "true", "false"}
    assert {"en": "no", "cy": "na"}[lang] in words
