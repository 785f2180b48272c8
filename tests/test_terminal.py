"""The terminal: tables that fit the window, data for pipes (--format), progress on stderr."""

from __future__ import annotations

import io
import json
from pathlib import Path

import polars as pl
from click.testing import CliRunner
from rich.console import Console

from dsg import load_dataset, settle
from dsg.cli import main
from dsg.output.screen import allocation_table, print_wide

EXAMPLES = Path(__file__).parent.parent / "examples"


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], env={"DSG_LANG": ""})


def test_format_csv_is_the_exported_file_and_json_the_same_rows(tmp_path):
    piped = invoke("run", "--format", "csv", "--out", tmp_path / "a.csv")
    assert piped.exit_code == 0
    # What goes down the pipe is the file, byte for byte; "Written" goes to stderr.
    assert piped.stdout == (tmp_path / "a.csv").read_text(encoding="utf-8")
    rows = json.loads(invoke("run", "--format", "json").stdout)
    assert rows == pl.read_csv(tmp_path / "a.csv").to_dicts()
    assert rows[-1]["council"] == "Cardiff" and rows[-1]["aef"] == 674_571_000


def test_compare_format_csv_is_the_long_table(tmp_path):
    out = tmp_path / "c.csv"
    piped = invoke("compare", EXAMPLES / "deprivation.toml", "--decompose", "--format", "csv", "--out", out)
    assert piped.exit_code == 0 and piped.stdout == out.read_text(encoding="utf-8")
    table = pl.read_csv(io.StringIO(piped.stdout))
    causes = [c for c in table.columns if c.startswith("cause_")]
    assert (table.select(pl.sum_horizontal(causes)).to_series() == table["difference"]).all()


def test_a_table_fits_a_narrow_terminal_and_says_what_it_left_out():
    buffer = io.StringIO()
    console = Console(file=buffer, width=80, force_terminal=True, color_system=None)
    print_wide(allocation_table(settle(load_dataset())), console, "en")
    lines = buffer.getvalue().splitlines()
    table_lines = [line for line in lines if line.startswith(("┃", "│", "┏", "└"))]
    assert max(len(line) for line in table_lines) <= 80
    note = next(line for line in lines if line.startswith("Left out to fit this 80-column window"))
    # The AEF, its change and the % stay; NDR, RSG and the per-unit figures go first.
    header = " ".join(line for line in lines if line.startswith("┃"))
    for kept in ("AEF", "Change", "Change %"):
        assert kept in header
    for gone in ("NDR", "RSG", "Change £/ Band D"):
        assert gone in note


def test_into_a_pipe_the_table_keeps_every_column():
    result = invoke("run")
    header = " ".join(line for line in result.stdout.splitlines() if line.startswith("┃"))
    assert "NDR" in header and "RSG" in header and "Left out" not in result.stdout


def test_montecarlo_and_sweep_send_their_tables_down_a_pipe(tmp_path):
    piped = invoke("montecarlo", "--samples", "300", "--format", "csv", "--out", tmp_path / "m.csv")
    assert piped.stdout == (tmp_path / "m.csv").read_text(encoding="utf-8")
    sweep = ["sweep", "--service", "School Services", "--indicator", "population", "--from", "0.5", "--to", "0.9"]
    rows = json.loads(invoke(*sweep, "--steps", "3", "--format", "json").stdout)
    assert len(rows) == 22 and set(rows[0]) == {"council", "0.5", "0.7", "0.9"}
