"""dsg data import-ibas, check and export: official IBA lines in, a dataset out."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import xlsxwriter
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsg import load_dataset, settle
from dsg.cli import main
from dsg.errors import InputError
from dsg.formula.arrays import service_ibas, to_inputs
from dsg.formula.synthetic import write_synthetic_dataset
from dsg.pipeline import export_dataset, import_ibas

STATSWALES = ("Unitary Authority", "Service", "Data values", "Year", "Data description", "Notes")


def invoke(*args):
    return CliRunner().invoke(main, list(args), env={"DSG_LANG": ""}, terminal_width=200)


def iba_rows(dataset, year="2025-26", by="name_en"):
    """A StatsWales-like long table of a dataset's own IBAs: one row per council and service."""
    ibas = service_ibas(to_inputs(dataset))
    names = dataset.councils[by].to_list()
    return [
        (names[c], service, repr(float(ibas[s, c])), year, "IBA (£)", "")
        for s, service in enumerate(dataset.services["service"].to_list())
        for c in range(len(names))
    ]


def write_long(path, rows, header=STATSWALES):
    pl.DataFrame([dict(zip(header, row)) for row in rows]).write_csv(path)
    return path


def test_default_ibas_come_back_exactly(tmp_path):
    """The default's IBAs, imported: each council's SSA is the sum of its IBAs to the penny
    (the default's calibration residual is not carried over; the lines take its place)."""
    dataset = load_dataset()
    file = write_long(tmp_path / "ibas.csv", iba_rows(dataset))
    imported = import_ibas(file, tmp_path / "new")
    assert imported.residual_left_out and imported.lines == dataset.services["service"].to_list()
    expected = service_ibas(to_inputs(dataset)).sum(axis=0)
    ssa = settle(load_dataset(tmp_path / "new")).councils["ssa"].to_numpy()
    assert np.abs(ssa - expected).max() < 0.005
    # Cardiff's SSA is now its IBAs alone: `dsg explain Cardiff` shows "Indicator-based
    # assessments 868,260,493" above the residual of -6,379,417 (checked by hand).
    cardiff = dataset.council_codes.index("W06000015")
    assert round(ssa[cardiff]) == 868_260_493


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    councils=st.integers(2, 40),
    indicators=st.integers(2, 6),
    services=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
    wide=st.booleans(),
)
def test_any_dataset_round_trips_to_the_penny(tmp_path_factory, councils, indicators, services, seed, wide):
    """An IBA file built from any valid dataset imports, with that dataset as --like, into one
    whose SSA and AEF match it council by council to the penny."""
    root = tmp_path_factory.mktemp("roundtrip")
    folder = write_synthetic_dataset(root / "source", councils, indicators, services, seed)
    rng = np.random.default_rng(seed)
    amounts = rng.normal(0, 5e6, councils)
    codes = [f"S{i:08d}" for i in range(councils)]
    (folder / "fixed.csv").write_text(
        "ons_code,amount\n" + "".join(f"{c},{float(a)!r}\n" for c, a in zip(codes, amounts)), encoding="utf-8"
    )
    dataset = load_dataset(folder)
    if wide:
        ibas = service_ibas(to_inputs(dataset))
        frame = pl.DataFrame(
            {"ons_code": codes, **{s: ibas[k] for k, s in enumerate(dataset.services["service"].to_list())}}
        )
        file = root / "ibas.csv"
        frame.write_csv(file)
    else:
        file = write_long(root / "ibas.csv", iba_rows(dataset, by="ons_code"))
    import_ibas(file, root / "new", like=folder)
    before, after = settle(dataset).councils, settle(load_dataset(root / "new")).councils
    for column in ("ssa", "aef_formula", "aef"):
        assert np.abs(before[column].to_numpy() - after[column].to_numpy()).max() < 0.005, column


def test_wide_xlsx_with_blocks_and_forgiving_names(tmp_path, toy):
    """One row per council, one column per line, in a workbook; councils by Welsh name and
    other spellings; two lines mapped into one block share it by their Wales totals."""
    path = tmp_path / "ibas.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["Council", "Primary pupils", "Secondary pupils", "Roads"])
    for row, values in enumerate([("aber cy", 300, 100, 50), ("BRYN", 600, 400, 0), ("C", 1100, 500, 200)], start=1):
        sheet.write_row(row, 0, values)
    book.close()
    (tmp_path / "blocks.csv").write_text(
        "line,service,name_cy\nprimary pupils,Schools,Ysgolion\nSecondary Pupils,Schools,Ysgolion\n", encoding="utf-8"
    )
    imported = import_ibas(path, tmp_path / "new", like=toy, blocks=tmp_path / "blocks.csv", year="2026-27")
    assert imported.blocks == ["Schools", "Roads"] and imported.year == "2026-27"
    dataset = load_dataset(tmp_path / "new")
    weights = dict(zip(dataset.weights["indicator"].to_list(), dataset.weights["weight"].to_list()))
    # Primary pupils: 2,000 of the block's 3,000; secondary 1,000 of 3,000; Roads alone.
    assert weights == pytest.approx({"Primary pupils": 2 / 3, "Secondary pupils": 1 / 3, "Roads": 1.0})
    assert dataset.services.select("service", "total", "name_cy").rows() == [
        ("Schools", 3000.0, "Ysgolion"),
        ("Roads", 250.0, "Roads"),
    ]
    # The toy's fixed element (no status: not a residual) is kept: A +10, C -10.
    ssa = settle(dataset).councils["ssa"].to_list()
    assert ssa == pytest.approx([300 + 100 + 50 + 10, 600 + 400 + 0, 1100 + 500 + 200 - 10])


def test_every_problem_at_once(tmp_path, toy):
    """A Wales row, an unknown council, a duplicate, a bad amount and a council missing a
    line: each is listed, and no folder is written. Rows of another year than --year are set
    aside; a file with no row of that year is refused."""
    rows = [
        ("A", "L1", "1000", "2026-27"),
        ("B", "L1", "2000", "2026-27"),
        ("C", "L1", "3000", "2026-27"),
        ("A", "L2", "1", "2026-27"),
        ("B", "L2", "x", "2026-27"),
        ("Wales", "L1", "6000", "2026-27"),
        ("A", "L1", "11", "2026-27"),
        ("C", "L2", "3", "2025-26"),
        ("Bryn Cyy", "L2", "3", "2026-27"),
    ]
    file = write_long(tmp_path / "ibas.csv", rows, ("ons_code", "line", "value", "year"))
    out = tmp_path / "new"
    result = invoke("data", "import-ibas", str(file), "--out", str(out), "--like", str(toy), "--year", "2026-27")
    assert result.exit_code == 2, result.output
    text = result.output
    assert "row 6, value: expected a finite number, found 'x'" in text
    assert "row 7, ons_code: 'Wales' is a total for Wales, not a council; leave it out" in text
    assert "row 8, line: a second amount for A (Aber) on line 'L1' (the first is on row 2)" in text
    assert "row 10, ons_code: no council is called 'Bryn Cyy'; did you mean Bryn / Caer?" in text
    assert "Traceback" not in text and not out.exists()
    # With the rows put right, C's missing amount on L2 is what is left: its 2025-26 row
    # was set aside.
    write_long(file, [*rows[:4], ("B", "L2", "2", "2026-27"), rows[7]], ("ons_code", "line", "value", "year"))
    result = invoke("data", "import-ibas", str(file), "--out", str(out), "--like", str(toy), "--year", "2026-27")
    assert result.exit_code == 2
    assert result.output.splitlines()[1:] == [f"  {file}: C (Caer) has no amount on line 'L2'"]
    result = invoke("data", "import-ibas", str(file), "--out", str(out), "--like", str(toy), "--year", "2027-28")
    assert result.exit_code == 2
    assert "year: no rows of 2027-28; the file holds 2026-27, 2025-26" in result.output


def test_several_years_need_a_choice(tmp_path, toy):
    rows = [(c, "L1", v, y) for y in ("2025-26", "2026-27") for c, v in zip("ABC", ("1000", "2000", "3000"))]
    file = write_long(tmp_path / "ibas.csv", rows, ("ons_code", "line", "value", "year"))
    with pytest.raises(InputError) as error:
        import_ibas(file, tmp_path / "new", like=toy)
    assert [p.code for p in error.value.problems] == ["iba_several_years"]
    imported = import_ibas(file, tmp_path / "new", like=toy, year="2026/27")
    assert (imported.year, imported.set_aside) == ("2026/27", 3)


def test_blocks_naming_an_unknown_line(tmp_path, toy):
    file = write_long(tmp_path / "ibas.csv", [(c, "Primary pupils", "1") for c in "ABC"], ("ons_code", "line", "value"))
    (tmp_path / "blocks.csv").write_text("line,service\nPrimery pupils,Schools\n", encoding="utf-8")
    with pytest.raises(InputError) as error:
        import_ibas(file, tmp_path / "new", like=toy, blocks=tmp_path / "blocks.csv")
    [problem] = error.value.problems
    assert (
        problem.render()
        == f"{tmp_path / 'blocks.csv'}, row 2, line: no line 'Primery pupils' in the IBA file; did you mean Primary pupils?"
    )


def test_a_line_named_like_a_copied_indicator_is_refused(tmp_path, toy):
    file = write_long(tmp_path / "ibas.csv", [(c, "POP", "1") for c in "ABC"], ("ons_code", "line", "value"))
    with pytest.raises(InputError) as error:
        import_ibas(file, tmp_path / "new", like=toy)
    assert [p.code for p in error.value.problems] == ["iba_line_clash"]


def test_reimport_replaces_the_dataset_whole(tmp_path, toy):
    """A second import into the same folder leaves nothing of the first (no stale fixed.csv);
    a folder holding other files is refused; an import that does not settle writes nothing."""
    header = ("ons_code", "line", "value")
    file = write_long(tmp_path / "ibas.csv", [(c, "L1", v) for c, v in zip("ABC", ("1000", "2000", "3000"))], header)
    out = tmp_path / "new"
    import_ibas(file, out, like=toy)
    (out / "stale.txt").write_text("x", encoding="utf-8")
    import_ibas(file, out, like=toy)
    assert not (out / "stale.txt").exists()
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError) as error:
        import_ibas(file, other, like=toy)
    assert [p.code for p in error.value.problems] == ["folder_not_dataset"]
    assert (other / "notes.txt").read_text(encoding="utf-8") == "mine"
    # IBAs of £6 in all cannot carry the toy's AEF of £1,000: the notional Band D is negative.
    write_long(file, [(c, "L1", v) for c, v in zip("ABC", "123")], header)
    with pytest.raises(InputError) as error:
        import_ibas(file, tmp_path / "small", like=toy)
    assert error.value.problems[0].file.startswith(str(tmp_path / "small"))
    assert not (tmp_path / "small").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_export_then_check_then_run_gives_the_default(tmp_path):
    export_dataset(tmp_path / "copy")
    result = invoke("data", "check", str(tmp_path / "copy"))
    assert result.exit_code == 0, result.output
    assert (
        "a valid dataset of 22 councils, 12 indicators and 4 services; it settles (AEF £6,130,842,000, floor cost £0)"
        in result.output
    )
    mine = settle(load_dataset(tmp_path / "copy")).councils
    assert mine.equals(settle(load_dataset()).councils)
    assert (tmp_path / "copy" / "published_2025-26_provisional.csv").exists()
    refused = invoke("data", "export", str(tmp_path / "copy" / "dataset.toml"))
    assert refused.exit_code == 2 and "a file is in the way" in refused.output


def test_check_lists_a_broken_dataset(tmp_path, toy):
    (toy / "weights.csv").write_text("service,indicator,weight\nS1,pop,0.5\nS2,pop,1\n", encoding="utf-8")
    result = invoke("data", "check", str(toy), "--lang", "cy")
    assert result.exit_code == 2
    assert "weights.csv" in result.output and "Traceback" not in result.output


def test_import_in_welsh(tmp_path, toy):
    file = write_long(
        tmp_path / "ibas.csv",
        [(c, "L1", v) for c, v in zip("ABC", "500 600 700".split())],
        ("ons_code", "line", "value"),
    )
    result = CliRunner().invoke(
        main, ["data", "import-ibas", str(file), "--out", str(tmp_path / "new"), "--like", str(toy), "--lang", "cy"]
    )
    assert result.exit_code == 0, result.output
    assert "Mewnforiwyd 1 o linellau asesiadau mewn 1 o flociau ar gyfer 3 o gynghorau" in result.output
