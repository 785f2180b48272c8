"""Languages: --lang and DSG_LANG in any case; an unsupported language is an error; Welsh
names wherever a name is shown."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from click.testing import CliRunner

from dsg.cli import main

EXAMPLES = Path(__file__).parent.parent / "examples"


def invoke(*args, env=None):
    return CliRunner().invoke(main, list(args), env=env or {"DSG_LANG": ""}, terminal_width=250)


def test_lang_and_dsg_lang_in_any_case():
    welsh = "Setliad refeniw llywodraeth leol Cymru"
    for result in (invoke("run", "--lang", "CY"), invoke("run", env={"DSG_LANG": "Cy"})):
        assert result.exit_code == 0 and welsh in result.output


def test_an_unsupported_language_is_an_error():
    result = invoke("run", env={"DSG_LANG": "fr"})
    assert result.exit_code == 2
    assert "DSG_LANG: unsupported language 'fr'; expected en (English) or cy (Cymraeg)" in result.output
    # --lang names the language itself: DSG_LANG is not used, so not refused.
    assert invoke("run", "--lang", "en", env={"DSG_LANG": "fr"}).exit_code == 0
    refused = invoke("run", "--lang", "fr")
    assert refused.exit_code == 2 and "'fr' is not one of 'en', 'cy'" in refused.output


def test_welsh_status_words_indicator_labels_and_grant_names(tmp_path):
    listed = invoke("grants", "list", "--lang", "cy")
    assert "enghreifftiol" in listed.output and "illustrative" not in listed.output
    explained = invoke("explain", "Cardiff", "--lang", "cy")
    assert "Poblogaeth" in explained.output and "lsoas_most_deprived_20pct" not in explained.output
    result = invoke(
        "grants", "report", "--scenario", str(EXAMPLES / "grants.toml"), "--out", str(tmp_path), "--lang", "cy"
    )
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(tmp_path / "grants.xlsx", read_only=True)
    # A sheet per year and grant, the grant named in its title.
    cells = [str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for cell in row]
    assert "Dadneilltuo: 2025-26, Grant Cymorth Tai" in cells
    assert not any("Housing Support Grant" in c for c in cells)
    # The CSV keeps the names the dataset and the scenario use.
    assert "Housing Support Grant" in (tmp_path / "dehypothecation.csv").read_text(encoding="utf-8")
