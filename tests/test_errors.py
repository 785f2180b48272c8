"""SPEC §6: bad input gives every problem, status 2, no traceback and no file written."""

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from dsg.cli import main
from tests.conftest import TOY_FILES

TOML = TOY_FILES["dataset.toml"]


def run_cli(*args, env=None):
    return CliRunner().invoke(main, list(args), env=env)


def assert_refused(result, out_path, *fragments):
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output, (fragment, result.output)
    assert not out_path.exists()
    assert not [p for p in out_path.parent.iterdir() if p.name.startswith(f".{out_path.name}")]


# (name, files changed in the toy dataset, fragments the message must contain)
DATASET_CASES = [
    (
        "unknown council code",
        {"base_csv": "ons_code,base_aef\nA,100\nB,200\nC,700\nX,5\n"},
        ["base.csv, row 5, ons_code", "unknown council code 'X'"],
    ),
    (
        "council missing from a file",
        {"base_csv": "ons_code,base_aef\nA,100\nB,200\n"},
        ["base.csv", "no row for C (Caer / Caer Cy)"],
    ),
    (
        "duplicated row",
        {"councils_csv": TOY_FILES["councils.csv"] + "B,Bryn,Bryn Cy\n"},
        ["councils.csv, row 5, ons_code", "'B' appears again (first on row 3)"],
    ),
    (
        "non-numeric value",
        {"services_csv": "service,total\nS1,lots\nS2,400\n"},
        ["services.csv, row 2, total", "expected a finite number, found 'lots'"],
    ),
    (
        "negative value",
        {"indicators_csv": TOY_FILES["indicators.csv"].replace("B,dep,1", "B,dep,-1")},
        ["indicators.csv, row 6, value", "expected a number of 0 or more, found -1"],
    ),
    (
        "non-finite value",
        {"base_csv": "ons_code,base_aef\nA,inf\nB,nan\nC,700\n"},
        ["base.csv, row 2, base_aef", "base.csv, row 3, base_aef", "expected a finite number"],
    ),
    (
        "weights not summing to 1",
        {"weights_csv": "service,indicator,weight\nS1,pop,1\nS2,pop,0.5\nS2,dep,0.4\n"},
        ["weights.csv, service S2", "weights sum to 0.9; expected 1"],
    ),
    (
        "weight naming an unknown indicator",
        {"weights_csv": "service,indicator,weight\nS1,pop,1\nS2,pop,0.5\nS2,depp,0.5\n"},
        ["weights.csv, row 4, indicator", "unknown indicator 'depp'"],
    ),
    (
        "weight naming an unknown service",
        {"weights_csv": TOY_FILES["weights.csv"] + "S9,pop,1\n"},
        ["weights.csv, row 5, service", "unknown service 'S9'"],
    ),
    (
        "both aef_total and notional_band_d",
        {"dataset_toml": TOML.replace("aef_total = 1000", "aef_total = 1000\nnotional_band_d = 1")},
        ["dataset.toml, settlement", "give aef_total or notional_band_d, not both"],
    ),
    (
        "infeasible self-funded floor",
        {"dataset_toml": TOML.replace('"external"', '"self"')},
        ["dataset.toml, settlement.floor_funding", "the floor cannot be self-funded"],
    ),
    (
        "indicator missing for a council",
        {"indicators_csv": TOY_FILES["indicators.csv"].replace("C,tb,250\n", "")},
        ["dataset.toml, settlement.taxbase_indicator", "indicator 'tb' has no value for C (Caer / Caer Cy)"],
    ),
    (
        "unknown settlement key",
        {"dataset_toml": TOML.replace("floor_percent", "flor_percent")},
        ["dataset.toml, settlement.flor_percent", "unknown key"],
    ),
    ("missing required file", {"weights_csv": None}, ["weights.csv: required file is missing"]),
    ("missing column", {"base_csv": "ons_code,aef\nA,1\nB,2\nC,3\n"}, ["base.csv: missing column(s) base_aef"]),
    # Found in review: each of these once ended in a traceback or a silent wrong figure.
    (
        "empty dataset.toml",
        {"dataset_toml": "# nothing yet\n"},
        ["dataset.toml, name: this key is required", "dataset.toml, settlement: this key is required"],
    ),
    (
        "title that is not text",
        {"dataset_toml": TOML.replace('title_en = "Toy settlement"', "title_en = 5")},
        ["dataset.toml, title_en: expected a non-empty text value"],
    ),
    (
        "provenance that is not a table",
        {"dataset_toml": "provenance = 5\n" + TOML},
        ["dataset.toml, provenance: expected a table"],
    ),
    (
        "repeated column",
        {"base_csv": "ons_code,base_aef, base_aef\nA,100,1\nB,200,2\nC,700,3\n"},
        ["base.csv, row 1", "base_aef appear more than once"],
    ),
    (
        "integer too large",
        {"dataset_toml": TOML.replace("floor_percent = 2.0", "floor_percent = 1" + "0" * 400)},
        ["settlement.floor_percent: expected a finite number"],
    ),
    (
        "number given as text in TOML",
        {"dataset_toml": TOML.replace("aef_total = 1000", 'aef_total = "1000"')},
        ["settlement.aef_total: expected a finite number, found '1000'"],
    ),
    (
        "underscore in a number",
        {"services_csv": "service,total\nS1,1_000\nS2,400\n"},
        ["services.csv, row 2, total: expected a finite number, found '1_000'"],
    ),
    (
        "blank indicator name",
        {"indicators_csv": TOY_FILES["indicators.csv"] + "A,,5\n", "weights_csv": TOY_FILES["weights.csv"] + "S1,,0\n"},
        ["indicators.csv, row 11, indicator: this cell is empty", "weights.csv, row 5, indicator: this cell is empty"],
    ),
    (
        "blank service name",
        {"services_csv": TOY_FILES["services.csv"] + ",5,x\n"},
        ["services.csv, row 4, service: this cell is empty"],
    ),
    (
        "cap below -100",
        {"dataset_toml": TOML.replace("floor_percent = 2.0", "cap_percent = -150")},
        ["settlement.cap_percent: -150.0 % would take more than the whole base"],
    ),
    (
        "unknown key and a missing indicator row",
        {
            "dataset_toml": TOML.replace("floor_funding", "floor_fundin"),
            "indicators_csv": TOY_FILES["indicators.csv"].replace("C,dep,2\n", ""),
        },
        ["settlement.floor_fundin: unknown key", "indicator 'dep' has no value for C (Caer / Caer Cy)"],
    ),
    (
        "an unreadable weight and a bad sum",
        {"weights_csv": "service,indicator,weight\nS1,pop,one\nS2,pop,0.5\nS2,dep,0.6\n"},
        [
            "weights.csv, row 2, weight: expected a finite number, found 'one'",
            "weights.csv, service S2: weights sum to 1.1",
        ],
    ),
]


@pytest.mark.parametrize("name, changes, fragments", DATASET_CASES, ids=[c[0] for c in DATASET_CASES])
def test_bad_dataset(make_toy, tmp_path, name, changes, fragments):
    data = make_toy(**changes)
    out = tmp_path / "out.csv"
    assert_refused(run_cli("run", "--data", str(data), "--out", str(out)), out, *fragments)


def test_every_problem_is_listed_at_once(make_toy, tmp_path):
    data = make_toy(
        base_csv="ons_code,base_aef\nA,x\nB,-2\nZ,700\n",
        services_csv="service,total\nS1,-1\nS2,400\n",
        dataset_toml=TOML.replace("aef_total = 1000", "aef_total = 1000\nnotional_band_d = 1"),
    )
    out = tmp_path / "out.xlsx"
    result = run_cli("run", "--data", str(data), "--out", str(out))
    assert_refused(
        result,
        out,
        "base.csv, row 2, base_aef",
        "base.csv, row 3, base_aef",
        "base.csv, row 4, ons_code",
        "no row for C (Caer / Caer Cy)",
        "services.csv, row 2, total",
        "not both",
    )
    assert len([line for line in result.output.splitlines() if line.startswith("  ")]) == 6


SCENARIO_CASES = [
    ("unknown scenario key", "flor = 3\n", ["flor: unknown key"]),
    ("unknown service", "[services]\nS7 = 5\n", ['services."S7"', "unknown service 'S7'"]),
    ("negative service total", "[services]\nS1 = -5\n", ['services."S1"', "expected a number of 0 or more"]),
    (
        "scenario weights not summing to 1",
        "[weights.S2]\npop = 0.7\ndep = 0.2\n",
        ['weights."S2"', "weights sum to 0.9"],
    ),
    (
        "scenario weight on unknown indicator",
        "[weights.S2]\npop = 0.5\nwealth = 0.5\n",
        ['weights."S2".wealth', "unknown indicator 'wealth'"],
    ),
    ("both totals in scenario", "[settlement]\naef_total = 900\nnotional_band_d = 1\n", ["not both"]),
    (
        "a grant that does not exist",
        '[[dehypothecate]]\ngrant = "No Such Grant"\ninto_service = "S1"\n',
        ["dehypothecate[1].grant", "unknown grant 'No Such Grant'"],
    ),
    (
        "consolidating grants that do not exist",
        '[[consolidate]]\ngrants = ["A", "B"]\ninto = "C"\ncut_percent = 5\nkey = "current"\n',
        ["consolidate[1].grants", "unknown grant 'A'", "unknown grant 'B'"],
    ),
    (
        "a bad cut and key",
        '[[consolidate]]\ngrants = ["A"]\ninto = "C"\ncut_percent = 120\nkey = { pop = 0.5 }\n',
        ["consolidate[1].cut_percent", "a cut of 120", "consolidate[1].key", "weights sum to 0.5"],
    ),
    ("infeasible self-funded floor", '[settlement]\nfloor_funding = "self"\n', ["floor cannot be self-funded"]),
    ("not TOML", "name = \n", ["not valid TOML"]),
]


@pytest.mark.parametrize("name, text, fragments", SCENARIO_CASES, ids=[c[0] for c in SCENARIO_CASES])
def test_bad_scenario(toy, tmp_path, name, text, fragments):
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(text, encoding="utf-8")
    out = tmp_path / "out.parquet"
    result = run_cli("run", "--data", str(toy), "--scenario", str(scenario), "--out", str(out))
    assert_refused(result, out, str(scenario), *fragments)


def test_missing_scenario_and_dataset(tmp_path):
    out = tmp_path / "out.csv"
    result = run_cli(
        "run", "--data", str(tmp_path / "nowhere"), "--scenario", str(tmp_path / "none.toml"), "--out", str(out)
    )
    assert_refused(result, out, "nowhere: not a dataset directory", "none.toml: required file is missing")


def test_unknown_output_format(toy, tmp_path):
    out = tmp_path / "out.ods"
    assert_refused(
        run_cli("run", "--data", str(toy), "--out", str(out)), out, "expected a file ending in .csv, .parquet, .xlsx"
    )


def test_messages_in_welsh(make_toy, tmp_path):
    data = make_toy(base_csv="ons_code,base_aef\nA,100\nB,200\n")
    out = tmp_path / "out.csv"
    assert_refused(
        run_cli("run", "--data", str(data), "--out", str(out), "--lang", "cy"),
        out,
        "dim rhes ar gyfer C (Caer / Caer Cy)",
    )
    assert_refused(run_cli("run", "--data", str(data), env={"DSG_LANG": "cy"}), out, "Ni allai dsg ddefnyddio")


def test_installed_command_exits_2_without_traceback(make_toy, tmp_path):
    data = make_toy(services_csv="service,total\nS1,abc\nS2,400\n")
    result = subprocess.run(
        [sys.executable, "-m", "dsg.cli", "run", "--data", str(data)],
        capture_output=True,
        text=True,
        env={**os.environ, "DSG_LANG": "en"},
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert "services.csv, row 2, total: expected a finite number, found 'abc'" in result.stderr
    assert result.stdout == ""


def test_blank_lines_are_skipped_and_rows_keep_their_numbers(make_toy, tmp_path):
    data = make_toy(base_csv="ons_code,base_aef\n\nA,100\nB,x\nC,700\n\n")
    out = tmp_path / "out.csv"
    result = run_cli("run", "--data", str(data), "--out", str(out))
    # The blank line is row 2, so B is on row 4.
    assert_refused(result, out, "base.csv, row 4, base_aef: expected a finite number, found 'x'")
    assert "None" not in result.output
    fine = make_toy(base_csv="ons_code,base_aef\nA,100\nB,200\nC,700\n\n")
    assert run_cli("run", "--data", str(fine)).exit_code == 0


def test_exports_are_readable_by_others(toy, tmp_path):
    previous = os.umask(0o022)
    try:
        result = run_cli("run", "--data", str(toy), "--out", str(tmp_path / "a.csv"))
    finally:
        os.umask(previous)
    assert result.exit_code == 0
    assert (tmp_path / "a.csv").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "a.datapackage.json").stat().st_mode & 0o777 == 0o644


def test_provenance_notes_cannot_replace_the_content_hash(make_toy):
    from dsg import load_dataset

    data = make_toy(dataset_toml=TOML + '\n[provenance]\nsha256 = "forged"\nnote = "kept"\n')
    provenance = load_dataset(data).provenance
    assert provenance["sha256"] != "forged" and len(provenance["sha256"]) == 64
    assert provenance["note"] == "kept"
