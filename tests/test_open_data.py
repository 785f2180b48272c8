"""Open data: every exported CSV comes with a Frictionless Data Package, valid by the
``frictionless`` library itself, with types, units, licence, sources and provenance."""

from __future__ import annotations

import json
from pathlib import Path

import frictionless
import pytest
from click.testing import CliRunner

from dsg.cli import main

EXAMPLES = Path(__file__).parent.parent / "examples"


def invoke(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], env={"DSG_LANG": ""})
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    out = tmp_path_factory.mktemp("open")
    invoke("run", "--out", out / "run.csv")
    invoke("run", "--scenario", EXAMPLES / "grants.toml", "--out", out / "path.csv")
    invoke("compare", EXAMPLES / "deprivation.toml", "--decompose", "--out", out / "compare.csv")
    invoke("grants", "report", "--scenario", EXAMPLES / "grants.toml", "--out", out / "grants")
    invoke("montecarlo", "--samples", "300", "--out", out / "mc.csv")
    return out


def packages(folder: Path):
    return sorted(folder.rglob("*.datapackage.json"))


def test_every_csv_has_a_valid_data_package(exports):
    csvs = sorted(exports.rglob("*.csv"))
    assert len(csvs) == 8
    assert [p.name.removesuffix(".datapackage.json") for p in packages(exports)] == [c.stem for c in csvs]
    for path in packages(exports):
        report = frictionless.validate(path)
        assert report.valid, (path.name, report.flatten(["type", "note"])[:5])


def test_the_package_gives_types_units_licence_sources_and_provenance(exports):
    package = json.loads((exports / "run.datapackage.json").read_text(encoding="utf-8"))
    fields = {f["name"]: f for f in package["resources"][0]["schema"]["fields"]}
    assert fields["aef"] == {
        "name": "aef",
        "type": "integer",
        "title": "Aggregate External Finance",
        "unit": "GBP",
        "description": "unit: GBP",
    }
    assert fields["pct_change"]["type"] == "number" and fields["pct_change"]["unit"] == "percent"
    assert fields["rank"]["type"] == "integer" and "unit" not in fields["rank"]
    assert fields["council"]["type"] == "string"
    assert package["licenses"][0]["name"] == "OGL-UK-3.0"
    assert any("statswales" in source["path"] for source in package["sources"])
    assert package["dsg_provenance"]["dataset"] == "wales-2025-26" and package["created"].startswith("20")
    compare = json.loads((exports / "compare.datapackage.json").read_text(encoding="utf-8"))
    units = {f["name"]: f.get("unit") for f in compare["resources"][0]["schema"]["fields"]}
    assert units["difference_per_head"] == "GBP per person" and units["cause_weights"] == "GBP"
    assert units["rank_change"] is None


def test_the_csv_is_the_same_bytes_on_every_run(exports, tmp_path):
    invoke("run", "--out", tmp_path / "run.csv")
    assert (tmp_path / "run.csv").read_bytes() == (exports / "run.csv").read_bytes()
