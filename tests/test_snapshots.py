"""Snapshots of what users see: rendered tables and workbook cells, in English and Welsh.

The golden files in tests/golden/ were produced by this code and checked by hand once
(see tests/golden/README.md for what was checked). After a deliberate change, regenerate
them with ``DSG_UPDATE_GOLDEN=1 pytest tests/test_snapshots.py`` and check the diff.
"""

import json
import os
import re
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from dsg.cli import main

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
UPDATE = os.environ.get("DSG_UPDATE_GOLDEN") == "1"


def check(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {name}: run with DSG_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


def run(*args, lang):
    result = CliRunner().invoke(main, [*args, "--lang", lang], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(autouse=True)
def in_repo(monkeypatch):
    # Scenario paths appear in the output; relative ones keep the snapshots stable.
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("lang", ["en", "cy"])
def test_run_table(lang):
    check(f"run-{lang}.txt", run("run", lang=lang))


@pytest.mark.parametrize("lang", ["en", "cy"])
def test_compare_with_decomposition(lang):
    check(f"compare-deprivation-{lang}.txt", run("compare", "examples/deprivation.toml", "--decompose", lang=lang))


@pytest.mark.parametrize("lang", ["en", "cy"])
def test_compare_by_region(lang):
    check(f"compare-regions-{lang}.txt", run("compare", "examples/floor-3.5.toml", "--by", "region", lang=lang))


@pytest.mark.parametrize("lang", ["en", "cy"])
def test_explain(lang):
    check(
        f"explain-merthyr-{lang}.txt",
        run("explain", "Merthyr Tydfil", "--scenario", "examples/deprivation.toml", lang=lang),
    )


def workbook_values(path: Path) -> str:
    book = openpyxl.load_workbook(path)
    cells = {}
    for sheet in book:
        rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
        # The context line under the title carries the date of writing.
        rows[1] = [re.sub(r"\d{4}-\d{2}-\d{2}", "DATE", v) if isinstance(v, str) else v for v in rows[1]]
        if sheet.title in ("Provenance", "Tarddiad"):
            volatile = ("dsg_version", "files.", "reference_sha256", "sha256", "written", "fingerprint")
            rows = [row for row in rows if not str(row[0]).startswith(volatile)]
        cells[sheet.title] = rows
    return json.dumps(cells, ensure_ascii=False, indent=1, default=str) + "\n"


@pytest.mark.parametrize("lang", ["en", "cy"])
def test_comparison_workbook(lang, tmp_path):
    out = tmp_path / "compare.xlsx"
    run("compare", "examples/floor-3.5.toml", "examples/deprivation.toml", "--decompose", "--out", str(out), lang=lang)
    check(f"workbook-{lang}.json", workbook_values(out))


@pytest.mark.parametrize("lang", ["en", "cy"])
def test_grants_report(lang):
    check(f"grants-report-{lang}.txt", run("grants", "report", "--scenario", "examples/grants.toml", lang=lang))
