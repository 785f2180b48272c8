"""The dsg command as a user meets it."""

from pathlib import Path

import polars as pl
from click.testing import CliRunner

from dsg.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def invoke(*args, env=None):
    result = CliRunner().invoke(main, list(args), env=env or {"DSG_LANG": ""}, terminal_width=200)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_help_carries_examples():
    for args in ([], ["run"]):
        result = invoke(*args, "--help")
        assert result.exit_code == 0
        assert "Examples:" in result.output
        assert "dsg run" in result.output


def test_run_shows_the_default_settlement():
    result = invoke("run")
    assert result.exit_code == 0
    out = result.output
    assert "Welsh local government revenue settlement 2025-26" in out
    assert "Isle of Anglesey" in out and "Cardiff" in out
    # Cardiff's AEF and the Wales total, in £ thousand.
    assert "674,571" in out
    assert "6,130,842" in out
    assert "Floor: 2.8 % (paid on top by Welsh Government)" in out
    assert "Floor cost (paid on top of AEF): £0" in out
    assert "Notional Band D council tax: £1,126.27" in out


def test_run_in_welsh_by_option_and_by_environment():
    for result in (invoke("run", "--lang", "cy"), invoke("run", env={"DSG_LANG": "cy"})):
        assert result.exit_code == 0
        assert "Ynys Môn" in result.output and "Caerdydd" in result.output
        assert "AWS" in result.output and "GCR" in result.output
        assert "Cost y cyllid gwaelodol" in result.output
        assert "Isle of Anglesey" not in result.output


def test_scenario_changes_the_settlement(tmp_path):
    scenario = tmp_path / "floor.toml"
    scenario.write_text('name = "A 3.5 % floor"\n[settlement]\nfloor_percent = 3.5\n', encoding="utf-8")
    out = tmp_path / "floor.csv"
    result = invoke("run", "--scenario", str(scenario), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "A 3.5 % floor" in result.output
    table = pl.read_csv(out)
    on_floor = table.filter(pl.col("floor_topup") > 0)["council"].to_list()
    # Every council the 2.8 % run left below 3.5 % is lifted to it.
    assert on_floor == ["Gwynedd", "Flintshire", "Powys", "Vale of Glamorgan", "Monmouthshire"]
    assert (table["pct_change"] >= 3.5 - 1e-6).all()
    assert table["aef"].sum() == 6_130_842_000 + table["floor_topup"].sum()


def test_toy_dataset_by_path(toy):
    result = invoke("run", "--data", str(toy))
    assert result.exit_code == 0
    assert "Toy settlement" in result.output
    assert "Aber" in result.output


def test_installed_package_runs_from_any_folder(tmp_path):
    # From a folder outside the repository, `import dsg` finds the installed package, so
    # this checks that the embedded data ships with it.
    import os
    import subprocess
    import sys

    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"DSG_LANG": "en"}
    result = subprocess.run(
        [sys.executable, "-m", "dsg.cli", "run", "--out", "default.xlsx"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=environment,
    )
    assert result.returncode == 0, result.stderr
    assert "Cardiff" in result.stdout
    assert (tmp_path / "default.xlsx").stat().st_size > 5000


def test_cli_reference_is_up_to_date():
    from pathlib import Path

    from tools.cli_reference import cli_reference

    documented = (Path(__file__).parents[1] / "docs" / "cli.md").read_text("utf-8")
    assert documented == cli_reference(), "regenerate: python -m tools.cli_reference > docs/cli.md"


def test_compare_and_explain_help_carry_examples():
    for command in ("compare", "explain"):
        result = invoke(command, "--help")
        assert result.exit_code == 0
        assert "Examples:" in result.output and f"dsg {command}" in result.output


def test_compare_writes_charts_workbook_and_long_table(tmp_path):
    import json

    scenario = tmp_path / "floor.toml"
    scenario.write_text("[settlement]\nfloor_percent = 3.5\n", encoding="utf-8")
    chart = tmp_path / "pct.png"
    result = invoke("compare", str(scenario), "--chart", str(chart), "--out", str(tmp_path / "c.csv"), "--lang", "cy")
    assert result.exit_code == 0, result.output
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = pl.read_csv(tmp_path / "c.csv")
    assert table.height == 22
    assert table["council"][0] == "Ynys Môn"
    assert table["difference"].sum() == 3_083_815
    provenance = json.loads((tmp_path / "c.datapackage.json").read_text("utf-8"))["dsg_provenance"]
    assert provenance["scenarios"]["1"]["file"] == str(scenario)
    assert len(provenance["scenarios"]["1"]["sha256"]) == 64
    first = (tmp_path / "c.csv").read_bytes()
    invoke("compare", str(scenario), "--out", str(tmp_path / "c.csv"), "--lang", "cy")
    assert (tmp_path / "c.csv").read_bytes() == first

    decomposed = invoke(
        "compare",
        str(scenario),
        str(scenario),
        "--decompose",
        "--chart",
        str(tmp_path / "d.png"),
        "--out",
        str(tmp_path / "d.parquet"),
    )
    assert decomposed.exit_code == 0, decomposed.output
    assert (tmp_path / "d.png").exists()
    assert "Nothing differs between the baseline and this scenario." in decomposed.output
    assert "dsg_provenance" in pl.read_parquet_metadata(tmp_path / "d.parquet")


def test_explain_prints_the_residual_line_and_draws_a_waterfall(tmp_path):
    chart = tmp_path / "w.png"
    result = invoke("explain", "caerdydd", "--chart", str(chart))
    assert result.exit_code == 0, result.output
    assert "Cardiff: how the settlement is built" in result.output
    assert "Calibration residual (fixed element)" in result.output
    assert "674,571,000" in result.output
    assert chart.read_bytes()[:4] == b"\x89PNG"


def test_explain_unknown_council_and_bad_chart_name(tmp_path):
    chart = tmp_path / "w.jpg"
    result = invoke("explain", "Atlantis", "--chart", str(chart))
    assert result.exit_code == 2
    assert "no council is called 'Atlantis'" in result.output
    assert "expected a file ending in .png, .svg, .pdf" in result.output
    assert not chart.exists()


def test_compare_bad_scenarios_are_all_listed(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[services]\nNowhere = 1\n", encoding="utf-8")
    worse = tmp_path / "worse.toml"
    worse.write_text("[settlement]\nfloor_percent = 'high'\n", encoding="utf-8")
    out = tmp_path / "c.xlsx"
    result = invoke("compare", str(bad), str(worse), "--out", str(out))
    assert result.exit_code == 2
    assert "unknown service 'Nowhere'" in result.output and "expected a finite number, found 'high'" in result.output
    assert not out.exists()


def test_grants_list_and_report(tmp_path):
    listed = invoke("grants", "list", "--lang", "cy")
    assert listed.exit_code == 0
    assert "Grant Cymorth Tai" in listed.output and "654,597,000" in listed.output
    out = tmp_path / "results"
    out.mkdir()
    result = invoke("grants", "report", "--scenario", str(EXAMPLES / "grants.toml"), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Moving Housing Support Grant into the settlement (2025-26)" in result.output
    assert "Merging into Local Bus Grant (2027-28)" in result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{n}.csv" for n in ("dehypothecation", "consolidation", "multiyear", "hypothecation")]
        + [f"{n}.datapackage.json" for n in ("dehypothecation", "consolidation", "multiyear", "hypothecation")]
        + ["grants.xlsx"]
    )
    moved = pl.read_csv(out / "dehypothecation.csv")
    assert moved.columns[:7] == ["year", "grant", "ons_code", "council", "grant_before", "aef_gain", "net"]
    assert moved["grant_before"].sum() == 166_763_000
    merged = pl.read_csv(out / "consolidation.csv")
    assert merged.filter(pl.col("year") == "2027-28")["new"].sum() == 58_880_000
    years = pl.read_csv(out / "multiyear.csv")
    assert years["year"].unique(maintain_order=True).to_list() == ["2025-26", "2026-27", "2027-28"]


def test_run_shows_the_years_of_a_grant_scenario():
    result = invoke("run", "--scenario", str(EXAMPLES / "grants.toml"))
    assert result.exit_code == 0, result.output
    assert "AEF year by year" in result.output
    assert "2027-28: AEF shared by the formula" in result.output


def test_grants_report_makes_its_folder_but_not_over_a_file(tmp_path):
    # Regression (issue 9): the README's `--out results/` failed when results/ did not exist.
    result = invoke(
        "grants", "report", "--scenario", str(EXAMPLES / "grants.toml"), "--out", str(tmp_path / "new" / "results")
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "new" / "results").glob("*.csv")) == [
        "consolidation.csv",
        "dehypothecation.csv",
        "hypothecation.csv",
        "multiyear.csv",
    ]
    (tmp_path / "file").write_text("x")
    result = invoke("grants", "report", "--scenario", str(EXAMPLES / "grants.toml"), "--out", str(tmp_path / "file"))
    assert result.exit_code == 2
    assert "a file is in the way" in result.output


def test_sweep_montecarlo_goalseek_commands(tmp_path):
    swept = invoke(
        "sweep",
        "--service",
        "Personal Social Services",
        "--indicator",
        "lsoas_most_deprived_20pct",
        "--from",
        "0",
        "--to",
        "0.6",
        "--steps",
        "4",
        "--chart",
        str(tmp_path / "s.png"),
        "--out",
        str(tmp_path / "s.csv"),
    )
    assert swept.exit_code == 0, swept.output
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
    table = pl.read_csv(tmp_path / "s.csv")
    assert table.columns == ["council", "0", "0.2", "0.4", "0.6"]
    mc = invoke("montecarlo", "--samples", "5000", "--seed", "2", "--out", str(tmp_path / "mc.xlsx"), "--lang", "cy")
    assert mc.exit_code == 0, mc.output
    assert "Tebygolrwydd o fod ar y cyllid gwaelodol" in mc.output
    assert (tmp_path / "mc.xlsx").stat().st_size > 5000
    sought = invoke("goalseek", "--vary", "floor", "--range", "0", "6", "--target", "floor-cost", "--value", "50000000")
    assert sought.exit_code == 0, sought.output
    assert "floor = 5.116" in sought.output and "floor-cost = £50,000,000" in sought.output
    impossible = invoke("goalseek", "--vary", "floor", "--range", "0", "1", "--target", "on-floor", "--value", "-1")
    assert impossible.exit_code == 2
    assert "the target cannot be met anywhere between 0.0000 % and 1.0000 %" in impossible.output
    bad = invoke("sweep", "--service", "Nope", "--indicator", "population", "--from", "0", "--to", "2", "--steps", "1")
    assert bad.exit_code == 2
    assert "weights run from 0.0 to 2.0" in bad.output and "1 steps; expected 2 to 1001" in bad.output


def test_bench_json_has_the_documented_keys():
    import json

    result = invoke("bench", "--json", "--scenarios", "20000")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert set(figures) == {
        "numba_all_cores",
        "numba_one_core",
        "numpy",
        "polars_query",
        "polars_per_scenario",
        "scenarios",
    }
    assert figures["scenarios"] == 20000 and all(v > 0 for v in figures.values())
