"""Figures that cannot disagree (issue 9): each defect found by trying dsg as a new user,
kept as a test that failed before the fix.

Every command goes through one pipeline, every floor/cap rule through one function, and the
README quotes what the tool prints.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from click.testing import CliRunner

from dsg.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def invoke(*args, cwd: Path | None = None):
    previous = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, [str(a) for a in args], env={"DSG_LANG": "en", "COLUMNS": "200"})
    finally:
        os.chdir(previous)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def scenario(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- one rule for the floor


def test_a_later_years_floor_cannot_go_through_the_cap(tmp_path):
    path = scenario(tmp_path, '[settlement]\ncap_percent = 5\n\n[[years]]\nyear = "2026-27"\nfloor_percent = 9\n')
    result = invoke("run", "--scenario", path)
    assert result.exit_code == 2, result.output
    assert "years[1].floor_percent" in result.output
    assert "cap" in result.output


def test_a_later_years_floor_below_minus_100_is_refused(tmp_path):
    path = scenario(tmp_path, '[[years]]\nyear = "2026-27"\nfloor_percent = -500\n')
    result = invoke("run", "--scenario", path)
    assert result.exit_code == 2, result.output
    assert "years[1].floor_percent" in result.output
    assert "expected -100 or more" in result.output


def test_a_later_year_may_remove_the_floor_and_set_a_cap(tmp_path):
    path = scenario(
        tmp_path, '[[years]]\nyear = "2026-27"\nfloor_percent = "none"\ncap_percent = 2.5\naef_growth_percent = 3\n'
    )
    result = invoke("run", "--scenario", path, "--out", tmp_path / "years.csv")
    assert result.exit_code == 0, result.output
    table = pl.read_csv(tmp_path / "years.csv")
    second = table.filter(pl.col("year") == "2026-27")
    assert second["floor_topup"].sum() == 0
    # Capped councils sit exactly at 2.5 %: no council is above it.
    assert second["pct_change"].max() <= 2.5 + 1e-6
    assert second["cap_reduction"].sum() > 0


def test_goal_seek_on_the_floor_obeys_the_cap(tmp_path):
    path = scenario(tmp_path, "[settlement]\ncap_percent = 5\n")
    result = invoke(
        "goalseek", "--scenario", path, "--vary", "floor", "--range", "0", "9", "--target", "on-floor", "--value", "3"
    )
    assert result.exit_code == 2, result.output
    assert "cap" in result.output and "--range" in result.output


# --------------------------------------------------------------------------- compare


def test_compare_chart_shows_the_difference_from_the_baseline(tmp_path):
    against_floor = invoke(
        "compare", EXAMPLES / "floor-3.5.toml", EXAMPLES / "deprivation.toml", "--chart", tmp_path / "ab.png"
    )
    against_default = invoke("compare", EXAMPLES / "deprivation.toml", "--chart", tmp_path / "b.png")
    assert against_floor.exit_code == 0 and against_default.exit_code == 0
    # Two baselines, two pictures (they were the same: the chart ignored the baseline).
    assert (tmp_path / "ab.png").read_bytes() != (tmp_path / "b.png").read_bytes()


def test_compare_chart_values_are_the_tables_differences(tmp_path, monkeypatch):
    import matplotlib.axes

    from dsg.output import charts
    from dsg.pipeline import compare

    drawn = {}
    original = matplotlib.axes.Axes.barh

    def spy(self, y, width, *args, **kwargs):
        if len(y):
            drawn["names"], drawn["values"] = list(y), list(width)
        return original(self, y, width, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "barh", spy)
    comparison = compare([EXAMPLES / "deprivation.toml"], EXAMPLES / "floor-3.5.toml")
    charts.difference_chart(comparison, 0, tmp_path / "c.png")
    table = comparison.scenario_table(0).sort("pct_difference", maintain_order=True)
    assert drawn["names"] == table["council"].to_list()
    assert drawn["values"] == pytest.approx(table["pct_difference"].to_list())


def test_compare_of_a_grant_move_counts_the_net_change(tmp_path):
    result = invoke("compare", EXAMPLES / "grants.toml", "--out", tmp_path / "grants.csv")
    assert result.exit_code == 0, result.output
    table = pl.read_csv(tmp_path / "grants.csv")
    for column in ("grants_baseline", "grants", "net_difference", "difference_per_head", "difference_per_band_d"):
        assert column in table.columns
    # Net = AEF difference + grants after - grants before, to the pound after rounding.
    gap = table["difference"] + table["grants"] - table["grants_baseline"] - table["net_difference"]
    assert gap.abs().max() <= 3
    # Every council gains AEF, but the Housing Support Grant and the cut bus grants leave: some
    # councils lose on the net, which the summary counts (it said 22 gain, none lose).
    assert (table["difference"] > 0).all()
    losing = int((table["net_difference"] <= -1).sum())
    assert losing > 0
    assert f"Councils losing: {losing}" in result.output
    # The grant columns are on screen, under their short headers (two lines each).
    header = [line for line in result.output.splitlines() if line.startswith("┃")]
    assert "Grants," in header[0] and "Net" in header[0] and "baseline" in header[1] and "difference" in header[1]
    # Per head and per Band D dwelling of the AEF difference.
    from dsg import load_dataset

    indicators = load_dataset().indicators
    cardiff = table.filter(pl.col("council") == "Cardiff").row(0, named=True)
    population = indicators.filter((pl.col("indicator") == "population") & (pl.col("ons_code") == cardiff["ons_code"]))
    assert cardiff["difference_per_head"] == pytest.approx(cardiff["difference"] / population["value"][0], abs=0.01)


# --------------------------------------------------------------------------- outputs


def test_run_out_writes_every_year_of_a_path(tmp_path):
    result = invoke("run", "--scenario", EXAMPLES / "grants.toml", "--out", tmp_path / "path.xlsx")
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(tmp_path / "path.xlsx")
    assert book.sheetnames[:3] == ["2025-26", "2026-27", "2027-28"]
    assert invoke("run", "--scenario", EXAMPLES / "grants.toml", "--out", tmp_path / "path.csv").exit_code == 0
    table = pl.read_csv(tmp_path / "path.csv")
    # SPEC §4's columns first, then the year.
    assert table.columns[-1] == "year" and table.columns[0] == "ons_code"
    assert table.group_by("year", maintain_order=True).len().rows() == [
        ("2025-26", 22),
        ("2026-27", 22),
        ("2027-28", 22),
    ]
    # Each year's base is the year before's AEF: the path, not three copies of one year.
    years = {year: frame for (year,), frame in table.group_by("year", maintain_order=True)}
    assert (years["2026-27"]["base_aef"] - years["2025-26"]["aef"]).abs().max() <= 1


def test_output_folders_are_made(tmp_path):
    assert invoke("run", "--out", tmp_path / "results" / "x.csv").exit_code == 0
    assert (tmp_path / "results" / "x.csv").exists()
    assert invoke("compare", EXAMPLES / "floor-3.5.toml", "--chart", tmp_path / "charts" / "x.png").exit_code == 0
    assert (tmp_path / "charts" / "x.png").exists()
    assert invoke("grants", "report", "--scenario", EXAMPLES / "grants.toml", "--out", tmp_path / "out").exit_code == 0
    assert (tmp_path / "out" / "grants.xlsx").exists()


# --------------------------------------------------------------------------- one pipeline


def test_each_scenario_year_is_settled_once():
    from dsg.pipeline import run

    result = run(None, EXAMPLES / "grants.toml")
    # The dataset as it stands (also the year without the grant moved), the first year with the
    # move, then one settlement for each later year: 4 (it was 13).
    assert result.years == ("2025-26", "2026-27", "2027-28")
    assert result.settlements == 4


def test_every_command_lists_dataset_and_scenario_problems_together(tmp_path):
    missing = tmp_path / "none.toml"
    for command in (
        ["run"],
        ["sweep", "--service", "X", "--indicator", "y", "--from", "0", "--to", "1"],
        ["montecarlo"],
        ["explain", "Cardiff"],
        ["goalseek", "--vary", "floor", "--range", "0", "1", "--target", "min-pct", "--value", "1"],
    ):
        result = invoke(*command, "--data", tmp_path / "nowhere", "--scenario", missing)
        assert result.exit_code == 2, (command, result.output)
        assert "nowhere" in result.output and "none.toml" in result.output, (command, result.output)


# --------------------------------------------------------------------------- start-up


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["run", "--help"],
        ["compare", "--help"],
        ["run", "--scenario", "missing.toml"],
        ["run", "--out", "x.txt"],
    ],
)
def test_help_and_refusals_load_no_engine(args, tmp_path):
    code = (
        "import sys\nfrom dsg.cli import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('numba', 'polars', 'matplotlib') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout + result.stderr


def test_import_dsg_is_lazy():
    code = "import sys, dsg; print(sorted(m for m in ('numba', 'polars', 'matplotlib') if m in sys.modules)); dsg.load_dataset"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# --------------------------------------------------------------------------- the README


def readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def millions(value: float) -> str:
    return f"£{value / 1e6:.1f}m"


def test_the_readme_quotes_the_floor_cost_and_its_causes(tmp_path):
    from dsg.analysis.decompose import decompose_comparison
    from dsg.pipeline import compare, run

    text = readme()
    deprivation = run(None, EXAMPLES / "deprivation.toml").allocation
    floor_only = run(None, EXAMPLES / "floor-3.5.toml").allocation
    weights_only = run(
        None,
        scenario(
            tmp_path,
            '[weights."Personal Social Services"]\npopulation = 0.5\nlsoas_most_deprived_20pct = 0.5\n',
        ),
    ).allocation
    parts = decompose_comparison(compare([EXAMPLES / "deprivation.toml"]))[0].parts
    quoted = {
        "floor cost": millions(deprivation.floor_cost),
        "weights alone": millions(weights_only.floor_cost),
        "floor alone": millions(floor_only.floor_cost),
        "weights cause": millions(parts["weights"].sum()),
        "floor cause": millions(parts["floor_cap"].sum()),
    }
    for what, figure in quoted.items():
        assert figure in text, (what, figure)
    on_floor = int((deprivation.councils["floor_topup"] >= 0.5).sum())
    assert f"{on_floor} councils end on the 3.5 % floor" in text
    for council, pct in (("Merthyr Tydfil", 12.8), ("Blaenau Gwent", 10.9)):
        row = deprivation.councils.filter(pl.col("name_en") == council).row(0, named=True)
        assert round(row["pct_change"], 1) == pct


def readme_commands() -> list[list[str]]:
    """Every ``dsg ...`` line of the README's plain code blocks (after the two install commands)."""
    commands, in_block = [], False
    for line in readme().splitlines():
        if line.startswith("```"):
            in_block = not in_block
        elif in_block and line.startswith("dsg "):
            commands.append(shlex.split(line)[1:])
    return commands


def test_the_readmes_commands_run_as_written(tmp_path):
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    commands = readme_commands()
    assert len(commands) >= 8
    for args in commands:
        result = invoke(*args, cwd=tmp_path)
        assert result.exit_code == 0, (args, result.output)
    assert (tmp_path / "results" / "deprivation.xlsx").exists()
    assert (tmp_path / "results" / "grants.xlsx").exists()


def test_a_later_year_may_grow_the_ndr_pool_within_the_rules(tmp_path):
    path = scenario(tmp_path, '[[years]]\nyear = "2026-27"\naef_growth_percent = 3\nndr_pool = 1150000000\n')
    result = invoke("run", "--scenario", path, "--out", tmp_path / "ndr.csv")
    assert result.exit_code == 0, result.output
    table = pl.read_csv(tmp_path / "ndr.csv")
    assert table.group_by("year", maintain_order=True).agg(pl.col("ndr").sum())["ndr"].to_list() == [
        1_100_000_000,
        1_150_000_000,
    ]
    bad = scenario(tmp_path, '[[years]]\nyear = "2026-27"\nndr_pool = -1\n', "bad.toml")
    result = invoke("run", "--scenario", bad)
    assert result.exit_code == 2 and "years[1].ndr_pool" in result.output, result.output


def test_unfundable_protection_is_one_problem_not_a_cascade(tmp_path):
    path = scenario(
        tmp_path,
        '[[consolidate]]\ngrants = ["Bus Network Grant", "Bus Services Support Grant"]\ninto = "Local Bus Grant"\n'
        "cut_percent = 8\nkey = { population = 1.0 }\nprotection_percent = -1\n\n"
        '[[years]]\nyear = "2026-27"\n[[years.dehypothecate]]\ngrant = "Local Bus Grant"\ninto_service = "Other services"\n',
    )
    result = invoke("run", "--scenario", path)
    assert result.exit_code == 2
    assert "protection cannot be paid for" in result.output
    assert "unknown grant" not in result.output


def test_every_command_and_output_runs_in_welsh(tmp_path):
    # name_of raises on a missing term: every word each command shows or writes must exist.
    grants, deprivation = EXAMPLES / "grants.toml", EXAMPLES / "deprivation.toml"
    commands = [
        ["run", "--scenario", grants, "--out", tmp_path / "run.xlsx"],
        ["compare", EXAMPLES / "floor-3.5.toml", deprivation, "--decompose", "--chart", tmp_path / "c.png"],
        ["compare", grants, "--by", "region", "--out", tmp_path / "c.xlsx"],
        ["explain", "Caerdydd", "--chart", tmp_path / "w.png"],
        ["grants", "list"],
        ["grants", "report", "--scenario", grants, "--out", tmp_path / "report"],
        [
            "sweep",
            "--service",
            "School Services",
            "--indicator",
            "population",
            "--from",
            "0.5",
            "--to",
            "0.9",
            "--steps",
            "3",
            "--chart",
            tmp_path / "s.png",
            "--out",
            tmp_path / "s.xlsx",
        ],
        ["montecarlo", "--samples", "2000", "--out", tmp_path / "m.xlsx"],
        ["goalseek", "--vary", "floor", "--range", "0", "6", "--target", "on-floor", "--value", "5"],
    ]
    for args in commands:
        result = invoke(*args, "--lang", "cy")
        assert result.exit_code == 0, (args, result.output)
    assert openpyxl.load_workbook(tmp_path / "s.xlsx").sheetnames == ["Crynodeb", "Colofnau", "Tarddiad"]


# --------------------------------------------------------------------------- found in review


def test_a_bad_output_path_does_not_hide_the_scenarios_problems(tmp_path):
    (tmp_path / "afile").write_text("x")
    path = scenario(tmp_path, '[settlement]\nfloor_percent = "x"\n[services]\n"Nope" = 5\n')
    result = invoke("run", "--scenario", path, "--out", tmp_path / "afile" / "x.csv")
    assert result.exit_code == 2
    for expected in ("afile", "settlement.floor_percent", "Nope"):
        assert expected in result.output, (expected, result.output)


def test_a_broken_part_does_not_make_a_spurious_problem_of_a_later_year(tmp_path):
    text = (
        '[settlement]\nfloor_percent = "none"\n[services]\n"Nope" = 1\n[[years]]\nyear = "2026-27"\ncap_percent = 1\n'
    )
    result = invoke("run", "--scenario", scenario(tmp_path, text))
    assert result.exit_code == 2
    assert "Nope" in result.output
    assert "cap_percent" not in result.output, result.output


def test_the_long_table_adds_up_on_every_row(tmp_path):
    result = invoke(
        "compare", EXAMPLES / "floor-3.5.toml", EXAMPLES / "grants.toml", "--decompose", "--out", tmp_path / "c.csv"
    )
    assert result.exit_code == 0, result.output
    table = pl.read_csv(tmp_path / "c.csv")
    causes = table.select(pl.sum_horizontal(pl.col("^cause_.*$")).alias("causes"))["causes"]
    assert (causes - table["difference"]).abs().max() == 0  # SPEC §7: to the penny, and so to the pound
    assert (table["aef"] - table["aef_baseline"] - table["difference"]).abs().max() == 0
    assert (table["difference"] + table["grants"] - table["grants_baseline"] - table["net_difference"]).abs().max() == 0


def test_the_compare_chart_of_a_grant_move_plots_the_net_change(tmp_path, monkeypatch):
    import matplotlib.axes

    from dsg.output import charts
    from dsg.pipeline import compare

    drawn = {}
    original = matplotlib.axes.Axes.barh

    def spy(self, y, width, *args, **kwargs):
        drawn["names"], drawn["values"] = list(y), list(width)
        return original(self, y, width, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "barh", spy)
    comparison = compare([EXAMPLES / "grants.toml"])
    charts.difference_chart(comparison, 0, tmp_path / "c.png")
    table = comparison.scenario_table(0).sort("net_difference", maintain_order=True)
    assert drawn["values"] == pytest.approx((table["net_difference"] / 1e6).to_list())
    assert min(drawn["values"]) < 0 < max(drawn["values"])  # losers on the net are drawn as losers


@pytest.mark.parametrize("years", [("Columns",), ("2026/27", "202627"), ("[]",)])
def test_year_names_never_break_the_workbook(tmp_path, years):
    text = "".join(f'[[years]]\nyear = "{year}"\n' for year in years)
    result = invoke("run", "--scenario", scenario(tmp_path, text), "--out", tmp_path / "y.xlsx")
    assert result.exit_code == 0, result.output
    names = openpyxl.load_workbook(tmp_path / "y.xlsx").sheetnames
    assert len(names) == len(years) + 3 and len({n.casefold() for n in names}) == len(names)


def test_every_years_parameters_are_in_the_provenance(tmp_path):
    path = scenario(tmp_path, '[[years]]\nyear = "2026-27"\nfloor_percent = 1.0\n')
    assert invoke("run", "--scenario", path, "--out", tmp_path / "p.csv").exit_code == 0
    import json

    record = json.loads((tmp_path / "p.datapackage.json").read_text())["dsg_provenance"]
    assert record["years"]["2025-26"]["settlement"]["floor_percent"] == 2.8
    assert record["years"]["2026-27"]["settlement"]["floor_percent"] == 1.0


def test_options_are_checked_with_everything_else(tmp_path):
    (tmp_path / "afile").write_text("x")
    result = invoke(
        "sweep",
        "--service",
        "Nope",
        "--indicator",
        "nope",
        "--from",
        "0",
        "--to",
        "1.5",
        "--out",
        tmp_path / "afile" / "x.csv",
    )
    assert result.exit_code == 2
    for expected in ("afile", "--from/--to", "--service", "--indicator"):
        assert expected in result.output, (expected, result.output)
    result = invoke("goalseek", "--vary", "floor", "--range", "5", "1", "--target", "council-aef", "--value", "1")
    assert result.exit_code == 2 and "--range" in result.output and "--council" in result.output
    assert invoke("bench", "--scenarios", "0").exit_code == 2


@pytest.mark.parametrize(
    "args",
    [
        ["montecarlo", "--samples", "0"],
        ["bench", "--scenarios", "5"],
        ["goalseek", "--vary", "x", "--range", "1", "0", "--target", "min-pct", "--value", "1"],
    ],
)
def test_option_refusals_load_no_engine(args, tmp_path):
    code = (
        "import sys\nfrom dsg.cli import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('numba', 'polars', 'matplotlib') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout + result.stderr


def test_no_chart_is_written_when_one_of_them_cannot_be(tmp_path):
    (tmp_path / "c-2.png").mkdir()
    result = invoke(
        "compare", "default", EXAMPLES / "floor-3.5.toml", EXAMPLES / "deprivation.toml", "--chart", tmp_path / "c.png"
    )
    assert result.exit_code == 2
    assert not (tmp_path / "c-1.png").exists()


def test_a_grant_move_does_not_need_the_dataset_to_settle_as_it_stands(make_toy, tmp_path):
    # The toy with a 50 % self-funded floor cannot be settled as it stands; a scenario that
    # removes the floor can, with or without a grant move.
    data = make_toy(
        dataset_toml=(ROOT / "tests" / "conftest.py")
        .read_text()
        .split('"dataset.toml": """\\\n')[1]
        .split('""",')[0]
        .replace("floor_percent = 2.0", "floor_percent = 50.0")
        .replace('"external"', '"self"'),
        grants_csv="grant,ons_code,amount\nG,A,10\nG,B,20\nG,C,30\n",
    )
    plain = scenario(tmp_path, '[settlement]\nfloor_percent = "none"\n')
    moved = scenario(
        tmp_path,
        '[settlement]\nfloor_percent = "none"\n[[dehypothecate]]\ngrant = "G"\ninto_service = "S1"\n',
        "m.toml",
    )
    assert invoke("run", "--data", data, "--scenario", plain).exit_code == 0
    result = invoke("run", "--data", data, "--scenario", moved)
    assert result.exit_code == 0, result.output


def test_goal_seek_blames_its_range_for_a_floor_that_cannot_be_self_funded(tmp_path):
    path = scenario(tmp_path, '[settlement]\nfloor_funding = "self"\n')
    result = invoke(
        "goalseek", "--scenario", path, "--vary", "floor", "--range", "0", "20", "--target", "min-pct", "--value", "3"
    )
    assert result.exit_code == 2
    assert "--range" in result.output and "self-funded" in result.output, result.output


def test_a_later_years_settlement_problem_names_the_years_key(tmp_path):
    path = scenario(tmp_path, '[[years]]\nyear = "2026-27"\nfloor_percent = 40\nfloor_funding = "self"\n')
    result = invoke("run", "--scenario", path)
    assert result.exit_code == 2
    assert "years[1].floor_funding" in result.output, result.output


# --------------------------------------------------------------------------- adversarial review


def test_a_tiny_denominator_gives_no_per_head_figure(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "dsg" / "data" / "wales-2025-26", data)
    text = (data / "indicators.csv").read_text(encoding="utf-8").splitlines()
    text = [
        line.replace(line.split(",")[2], "5e-324", 1) if line.startswith("W06000001,ct_band_d_equivalents,") else line
        for line in text
    ]
    (data / "indicators.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    for out in ("x.xlsx", "x.csv"):
        result = invoke("compare", "--data", data, EXAMPLES / "deprivation.toml", "--out", tmp_path / out)
        assert result.exit_code == 0, result.output
    table = pl.read_csv(tmp_path / "x.csv")
    assert table["difference_per_band_d"][0] is None
    assert table["difference_per_band_d"].drop_nulls().is_finite().all()


def test_a_path_whose_aef_vanishes_is_refused(tmp_path):
    years = "".join(
        f'[[years]]\nyear = "y{n}"\naef_growth_percent = -99\nssa_growth_percent = -99\nfloor_percent = "none"\n'
        for n in range(8)
    )
    result = invoke("run", "--scenario", scenario(tmp_path, years), "--out", tmp_path / "x.xlsx")
    assert result.exit_code == 2, result.output
    assert "falls below £1" in result.output
    assert not (tmp_path / "x.xlsx").exists()


def test_control_characters_never_reach_a_sheet_name(tmp_path):
    path = scenario(tmp_path, '[[years]]\nyear = "a\\u0001b"\n')
    assert invoke("run", "--scenario", path, "--out", tmp_path / "x.xlsx").exit_code == 0
    assert openpyxl.load_workbook(tmp_path / "x.xlsx").sheetnames[1] == "ab"


def test_an_output_never_replaces_an_input(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "dsg" / "data" / "wales-2025-26", data)
    before = (data / "councils.csv").read_bytes()
    result = invoke("run", "--data", data, "--out", data / "councils.csv")
    assert result.exit_code == 2 and "would replace an input" in result.output
    assert (data / "councils.csv").read_bytes() == before
    path = scenario(tmp_path, "[settlement]\nfloor_percent = 3\n")
    result = invoke("compare", path, "--chart", path)
    assert result.exit_code == 2


def test_a_code_names_its_own_council_before_a_name_does(tmp_path):
    from dsg import load_dataset
    from dsg.analysis.names import council_index

    dataset = load_dataset()
    renamed = dataset.with_changes(
        councils=dataset.councils.with_columns(
            pl.when(pl.col("ons_code") == "W06000002")
            .then(pl.lit("W06000015"))
            .otherwise(pl.col("name_en"))
            .alias("name_en")
        )
    )
    assert dataset.council_codes[council_index(renamed, "W06000015")] == "W06000015"


def test_monte_carlo_samples_are_bounded():
    result = invoke("montecarlo", "--samples", "99999999999999999999")
    assert result.exit_code == 2 and "--samples" in result.output
