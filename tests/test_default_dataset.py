"""The embedded wales-2025-26 dataset reproduces the published provisional settlement."""

import math
import tomllib
from importlib import resources
from pathlib import Path

import polars as pl
import pytest

from dsg import load_dataset, run_settlement
from tools import build_dataset as build

PUBLISHED = resources.files("dsg.data").joinpath("wales-2025-26", "published_2025-26_provisional.csv")
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="module")
def allocation():
    return run_settlement()


@pytest.fixture(scope="module")
def published():
    return pl.read_csv(PUBLISHED.read_bytes())


def test_twenty_two_councils_in_published_order(allocation, published):
    table = allocation.table("en")
    assert table.height == 22
    assert table["ons_code"].to_list() == published["ons_code"].to_list()
    assert table["council"][0] == "Isle of Anglesey"
    assert allocation.table("cy")["council"][0] == "Ynys Môn"
    assert allocation.table("cy")["council"][21] == "Caerdydd"


def test_every_council_within_1000_of_the_published_aef(allocation, published):
    ours = allocation.table("en")
    for code, aef, base, rank, pct in published.select("ons_code", "aef", "base_aef", "rank", "pct_change").iter_rows():
        row = ours.filter(pl.col("ons_code") == code).row(0, named=True)
        assert abs(row["aef"] - aef) <= 1000, code
        assert row["base_aef"] == base, code
        assert row["rank"] == rank, code
        assert round(row["pct_change"], 1) == pytest.approx(pct), code


def test_wales_totals(allocation):
    totals = allocation.wales_totals()
    assert totals["aef"] == pytest.approx(6_130_842_000, abs=1)
    assert allocation.aef_total == 6_130_842_000
    # Total SSA 2024-25 (S07): the IBAs add up to Current SSA and the residual brings
    # in the rest.
    assert totals["ssa"] == pytest.approx(7_716_355_180, abs=1)
    assert totals["ndr"] == pytest.approx(1_100_000_000)
    # Monmouthshire's published AEF is £264 above its 2.8 % floor, so nobody is topped up.
    assert allocation.floor_cost == 0
    monmouthshire = allocation.table("en").filter(pl.col("council") == "Monmouthshire").row(0, named=True)
    assert monmouthshire["aef"] - monmouthshire["base_aef"] * 1.028 == pytest.approx(264, abs=1)
    assert allocation.notional_band_d == pytest.approx(1126.27, abs=0.01)


def test_services_weights_and_residual_are_documented():
    dataset = load_dataset()
    services = dict(dataset.services.select("service", "total").iter_rows())
    assert services["School Services"] == 2_974_926_840
    assert services["Other Education"] == 42_012_970
    assert services["Personal Social Services"] == 2_361_238_580
    assert math.fsum(services.values()) == pytest.approx(7_410_845_700)
    assert set(dataset.services["status"]) == {"published", "illustrative"}
    weights = dataset.weights
    assert weights.filter(pl.col("service") == "Other services").select("indicator", "weight", "status").rows() == [
        ("population", 1.0, "published")
    ]
    assert weights["status"].is_in(["published", "illustrative"]).all()
    assert weights["reason"].str.len_chars().min() > 20
    assert dataset.fixed["amount"].sum() == pytest.approx(7_716_355_180 - 7_410_845_700, abs=0.5)
    indicators = dataset.indicators
    assert {"unit", "year", "status", "source"} <= set(indicators.columns)
    assert indicators.filter(pl.col("indicator") == "population")["value"].sum() == pytest.approx(3_107_494, rel=0.01)


def test_dataset_toml_carries_licence_and_sources():
    meta = tomllib.loads(resources.files("dsg.data").joinpath("wales-2025-26", "dataset.toml").read_text("utf-8"))
    assert "Open Government Licence v3.0" in meta["licence"]
    assert meta["settlement"]["aef_total"] == 6_130_842_000
    assert meta["settlement"]["floor_percent"] == 2.8
    assert meta["settlement"]["floor_funding"] == "external"
    assert "S049" in meta["provenance"]["sources"]


@pytest.mark.skipif(not (REFERENCE / "councils.csv").exists(), reason="reference data folder not beside the repo")
def test_build_script_reproduces_the_committed_dataset(tmp_path):
    target = tmp_path / "wales-2025-26"
    build.build(REFERENCE, target)
    committed = resources.files("dsg.data").joinpath("wales-2025-26")
    names = sorted(p.name for p in target.iterdir())
    assert names == sorted(p.name for p in committed.iterdir() if p.name.endswith((".csv", ".toml")))
    for name in names:
        assert (target / name).read_bytes() == committed.joinpath(name).read_bytes(), name
