"""The dsg command as a user meets it."""

import polars as pl
from click.testing import CliRunner

from dsg.cli import main


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
        cwd=tmp_path, capture_output=True, text=True, env=environment,
    )
    assert result.returncode == 0, result.stderr
    assert "Cardiff" in result.stdout
    assert (tmp_path / "default.xlsx").stat().st_size > 5000


def test_cli_reference_is_up_to_date():
    from pathlib import Path

    from dsg.cli_reference import cli_reference

    documented = (Path(__file__).parents[1] / "docs" / "cli.md").read_text("utf-8")
    assert documented == cli_reference(), "regenerate: python -m dsg.cli_reference > docs/cli.md"
