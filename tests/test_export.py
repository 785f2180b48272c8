"""Exported tables: SPEC §4 columns, whole pounds adding up, formats, atomic writes."""

import json

import numpy as np
import openpyxl
import polars as pl
import pytest

from dsg import load_dataset, run_settlement, settle, write_allocation
from dsg.errors import InputError
from dsg.formula.settle import ALLOCATION_COLUMNS, MONEY_COLUMNS
from dsg.output.export import rounded_table
from dsg.output.rounding import largest_remainder


@pytest.fixture(scope="module")
def allocation():
    return run_settlement()


def test_largest_remainder_worked_example():
    # 0.4 + 0.4 + 0.4 + 1.8 = 3.0: floors give 1, the two missing pounds go to the
    # largest remainders (1.8, then the first 0.4 in order).
    assert largest_remainder(np.array([0.4, 0.4, 0.4, 1.8])).tolist() == [1.0, 0.0, 0.0, 2.0]
    assert largest_remainder(np.array([2.5, 2.5])).tolist() == [3.0, 2.0]
    assert largest_remainder(np.array([1234.0, 5678.0]), 1000.0).tolist() == [1000.0, 6000.0]


def test_rounded_rows_add_up_to_rounded_wales_total(allocation):
    table = rounded_table(allocation)
    totals = allocation.wales_totals()
    for column in MONEY_COLUMNS:
        assert table[column].dtype == pl.Int64
        assert table[column].sum() == round(totals[column]), column
        assert (table[column] - allocation.table()[column]).abs().max() < 1, column


def test_csv_has_exactly_the_spec_columns_and_is_reproducible(allocation, tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    write_allocation(allocation, first)
    write_allocation(run_settlement(), second)
    assert first.read_bytes() == second.read_bytes()
    table = pl.read_csv(first)
    assert table.columns == list(ALLOCATION_COLUMNS)
    assert table["aef"].sum() == 6_130_842_000
    assert table.filter(pl.col("ons_code") == "W06000015")["aef"][0] == 674_571_000
    assert table["pct_change"][0] == pytest.approx(3.603053, abs=1e-6)
    lines = first.read_text("utf-8").splitlines()
    assert lines[0] == ",".join(ALLOCATION_COLUMNS)
    assert lines[1].startswith("W06000001,Isle of Anglesey,")


def test_csv_in_welsh_names_the_councils_in_welsh(allocation, tmp_path):
    target = write_allocation(allocation, tmp_path / "cy.csv", lang="cy")
    table = pl.read_csv(target)
    assert table.columns == list(ALLOCATION_COLUMNS)
    assert table["council"][0] == "Ynys Môn"


def test_parquet_carries_columns_and_provenance(allocation, tmp_path):
    target = write_allocation(allocation, tmp_path / "a.parquet")
    table = pl.read_parquet(target)
    assert table.columns == list(ALLOCATION_COLUMNS)
    assert table["aef"].sum() == 6_130_842_000
    metadata = pl.read_parquet_metadata(target)
    provenance = json.loads(metadata["dsg_provenance"])
    assert provenance["dataset"] == "wales-2025-26"
    assert len(provenance["sha256"]) == 64


def test_xlsx_money_header_wales_row_and_provenance(allocation, tmp_path):
    target = write_allocation(allocation, tmp_path / "a.xlsx", lang="cy")
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["Dyraniad", "Colofnau", "Tarddiad"]
    sheet = book["Dyraniad"]
    # A title, a line of context, then the header row (row 3) in the chosen language; the
    # columns sheet maps the labels back to SPEC §4's names.
    assert sheet["A1"].value.startswith("Dyraniad")
    assert [c.value for c in sheet[3]][:3] == ["Cod SYG", "Cyngor", "Asesiad o Wariant Safonol"]
    assert len(sheet[3]) == len(ALLOCATION_COLUMNS)
    assert sheet.freeze_panes == "C4"
    assert sheet["B4"].value == "Ynys Môn"
    aef_column = ALLOCATION_COLUMNS.index("aef") + 1
    cardiff = sheet.cell(row=25, column=aef_column)
    assert cardiff.value == 674_571_000
    assert cardiff.number_format == "#,##0"
    assert sheet.cell(row=26, column=2).value == "Cymru"
    assert sheet.cell(row=26, column=aef_column).value == 6_130_842_000
    rows = list(book["Tarddiad"].iter_rows(min_row=4, values_only=True))
    provenance = dict(rows)
    assert provenance["dataset"] == "wales-2025-26"
    assert "Open Government Licence" in provenance["licence"]
    assert provenance["written"].startswith("20")
    assert provenance["aef_total"] == 6_130_842_000  # a number, not text
    labels = {row[0]: (row[1], row[2]) for row in book["Colofnau"].iter_rows(min_row=4, values_only=True)}
    assert labels["rsg"] == ("Revenue Support Grant", "Grant Cynnal Refeniw")
    assert not str(target).endswith("m")  # xlsx, never xlsm: no macros


def test_failed_write_leaves_no_file(toy, tmp_path, monkeypatch):
    allocation = settle(load_dataset(toy))
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "a.csv"
    target.write_text("previous contents")

    def broken(self, path, *args, **kwargs):
        with open(path, "w") as handle:
            handle.write("half a tab")
        raise OSError("disk full")

    monkeypatch.setattr(pl.DataFrame, "write_csv", broken)
    with pytest.raises(InputError) as caught:
        write_allocation(allocation, target)
    assert caught.value.problems[0].code == "cannot_write"
    assert "disk full" in caught.value.render()
    assert target.read_text() == "previous contents"
    assert [p.name for p in folder.iterdir()] == ["a.csv"]


def test_unknown_extension_is_an_input_error(toy, tmp_path):
    with pytest.raises(InputError) as caught:
        write_allocation(settle(load_dataset(toy)), tmp_path / "a.txt")
    assert caught.value.problems[0].code == "unknown_extension"
