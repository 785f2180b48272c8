"""Per head and per Band D dwelling: what a change in AEF means to a council."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from dsg.cli import main

FLOOR = str(Path(__file__).parent.parent / "examples" / "floor-3.5.toml")


def invoke(*args):
    return CliRunner().invoke(main, list(args), env={"DSG_LANG": ""}, terminal_width=250)


def row_of(output: str, council: str) -> list[str]:
    line = next(line for line in output.splitlines() if line.startswith(f"│ {council} "))
    return [cell.strip() for cell in line.split("│")[1:-1]]


def test_run_shows_aef_and_change_per_head_and_per_band_d():
    result = invoke("run")
    assert result.exit_code == 0
    # Anglesey (checked by hand from the dataset): AEF £135,605,000 over a population of
    # 68,877 is £1,968.80 a head; the change of £4,716,000 over 34,410 Band D equivalents is
    # £137.05 a dwelling, and £68.47 a head.
    assert row_of(result.output, "Isle of Anglesey")[-4:] == ["1,968.80", "68.47", "137.05", "16"]
    # Wales: £253,460,000 of change over the Wales tax base.
    assert row_of(result.output, "Wales")[-4:-1] == ["1,972.92", "81.56", "180.05"]


def test_compare_per_head_follows_the_rows_when_sorted():
    plain = invoke("compare", FLOOR)
    by_gain = invoke("compare", FLOOR, "--sort", "difference")
    for council in ("Monmouthshire", "Gwynedd", "Cardiff"):
        assert row_of(plain.output, council)[-3:-1] == row_of(by_gain.output, council)[-3:-1]
    # Monmouthshire is lifted £910,170 to the 3.5 % floor: £9.79 a head, £17.87 a dwelling.
    assert row_of(by_gain.output, "Monmouthshire")[-3:-1] == ["9.79", "17.87"]
