"""dsg explain against a baseline: one council before and after, and why it changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from dsg.cli import main
from dsg.pipeline import compare, explain_change
from tests.test_compare import next_year

EXAMPLES = Path(__file__).parent.parent / "examples"


def test_rct_under_more_deprivation_weight():
    """Rhondda Cynon Taf under examples/deprivation.toml: only Personal Social Services'
    formula changes, so its IBA is the only service that moves, by the council's whole change
    in AEF; its assumed council tax stays; the decomposition gives it all to the weights."""
    change = explain_change("RCT", scenario=EXAMPLES / "deprivation.toml")
    services = dict(change.services.select("service", "change").iter_rows())
    steps = {k: (b, a, c) for k, b, a, c in change.steps.iter_rows()}
    total = steps["aef"][2]
    # The same figure as `dsg compare examples/deprivation.toml` shows for RCT (+22,042 £k).
    difference = (
        compare([EXAMPLES / "deprivation.toml"])
        .long_table()
        .filter(pytest.importorskip("polars").col("council") == "Rhondda Cynon Taf")["difference"][0]
    )
    assert total == pytest.approx(difference, abs=1e-6)
    assert round(total) == 22_042_416
    assert services["Personal Social Services"] == pytest.approx(total, abs=1e-6)
    assert [services[s] for s in ("School Services", "Other Education", "Other services")] == [0.0, 0.0, 0.0]
    assert steps["assumed_council_tax"][2] == pytest.approx(0.0, abs=1e-6)
    causes = dict(change.causes.iter_rows())
    assert causes["weights"] == pytest.approx(total, abs=0.005) and causes["total"] == pytest.approx(total, abs=1e-9)
    # The indicators' £ move with the weights; their shares of Wales do not.
    indicators = change.indicators.filter(change.indicators["indicator"] == "population").row(0, named=True)
    assert indicators["share_before"] == indicators["share_after"]
    assert indicators["change"] < 0


def test_year_on_year_from_the_command_line(tmp_path):
    """dsg explain Cardiff --data 2026-27/ --baseline 2025-26/: the causes add up to the
    change the steps show, to the penny."""
    last, this = next_year(tmp_path)
    change = explain_change("Cardiff", data=this, baseline=last)
    causes = dict(change.causes.iter_rows())
    total = {k: c for k, _, _, c in change.steps.iter_rows()}["aef"]
    assert sum(v for k, v in causes.items() if k != "total") == pytest.approx(total, abs=0.01)
    assert {"indicators", "taxbase", "services", "base"} <= set(causes)
    result = CliRunner().invoke(
        main, ["explain", "Caerdydd", "--data", str(this), "--baseline", str(last), "--lang", "cy"], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    assert "Caerdydd: cyn ac ar ôl" in result.output and "Y newid yn y CAC yn ôl achos" in result.output


def test_unknown_council_and_bad_baseline_are_listed(tmp_path):
    result = CliRunner().invoke(main, ["explain", "Cardif", "--baseline", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert "nope.toml" in result.output and "Cardif" in result.output and "Traceback" not in result.output
