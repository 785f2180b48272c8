"""Illustrative inputs flagged wherever a figure rests on them; the dataset decides which."""

from __future__ import annotations

import openpyxl
from click.testing import CliRunner

from dsg import load_dataset
from dsg.analysis.caveats import caveat_lines, caveats
from dsg.cli import main


def test_the_default_says_what_is_illustrative():
    found = caveats(load_dataset(), grants=True)
    assert found.formulas == ("School Services", "Other Education", "Personal Social Services")
    assert found.totals == ("Other services",)
    assert found.indicators == ("ct_band_d_equivalents",)
    assert found.settlement == ("ndr_pool", "ndr_indicator")
    assert found.residual and len(found.grant_keys) == 8


def test_a_dataset_without_statuses_has_no_caveats_and_one_with_them_has(toy):
    assert not caveats(load_dataset(toy)) and caveat_lines(load_dataset(toy), "en") == []
    (toy / "weights.csv").write_text(
        "service,indicator,weight,status\nS1,pop,1,published\nS2,pop,0.5,Illustrative\nS2,dep,0.5,illustrative\n",
        encoding="utf-8",
    )
    assert caveat_lines(load_dataset(toy), "cy") == ["† fformiwlâu enghreifftiol: G2"]


def test_screen_and_workbook_carry_the_mark_and_the_caveat(tmp_path, toy):
    runner = CliRunner()
    result = runner.invoke(main, ["run", "--out", str(tmp_path / "a.xlsx")], env={"DSG_LANG": ""})
    assert "reconstructed †" in result.output
    assert "† illustrative settlement parameters: NDR pool, NDR key (indicator)" in result.output
    sheet = openpyxl.load_workbook(tmp_path / "a.xlsx").worksheets[0]
    assert "† illustrative formulas: School Services" in sheet["A2"].value
    plain = runner.invoke(main, ["run", "--data", str(toy)], env={"DSG_LANG": ""})
    assert "†" not in plain.output
