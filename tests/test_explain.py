"""dsg explain: one council's settlement taken apart."""

import pytest

from dsg import load_dataset, run_settlement, settle
from dsg.analysis.explain import explain
from dsg.errors import InputError


@pytest.fixture(scope="module")
def allocation():
    return run_settlement()


def lines(explanation):
    return dict(explanation.steps.select("key", "amount").iter_rows())


def test_lines_add_up_from_ibas_to_aef(allocation):
    cardiff = explain(allocation, "Cardiff")
    step = lines(cardiff)
    assert cardiff.ons_code == "W06000015"
    assert step["iba_total"] + step["fixed"] == pytest.approx(step["ssa"])
    assert step["ssa"] - step["assumed_council_tax"] == pytest.approx(step["aef_formula"])
    assert step["aef_formula"] + step["floor_topup"] - step["cap_reduction"] - step["self_funding"] == pytest.approx(
        step["aef"]
    )
    assert step["ndr"] + step["rsg"] == pytest.approx(step["aef"])
    assert step["aef"] == pytest.approx(674_571_000, abs=1)
    assert cardiff.services["iba"].sum() == pytest.approx(step["iba_total"])
    # The residual is its own line, and equals the dataset's fixed element for Cardiff.
    fixed = load_dataset().fixed
    assert step["fixed"] == pytest.approx(fixed.filter(fixed["ons_code"] == "W06000015")["amount"][0])


def test_shares_against_population(allocation):
    merthyr = explain(allocation, "merthyr tudful")
    assert merthyr.name_en == "Merthyr Tydfil"
    indicators = {row["indicator"]: row for row in merthyr.indicators.iter_rows(named=True)}
    population = indicators["population"]
    assert population["ratio"] == pytest.approx(1.0)
    assert population["value"] == 58_839
    # 16 of Wales's most-deprived-20 % areas: about twice its population share.
    deprived = indicators["lsoas_most_deprived_20pct"]
    assert deprived["value"] == 16
    assert deprived["ratio"] > 2
    other = merthyr.services.filter(merthyr.services["service"] == "Other services").row(0, named=True)
    # Other services is shared by population alone: exactly the Wales per-head figure.
    assert other["index"] == pytest.approx(1.0)
    assert other["per_head"] == pytest.approx(other["wales_per_head"])
    assert merthyr.figures["population"] == 58_839


def test_lookup_by_code_and_welsh_name_in_any_case(allocation):
    assert explain(allocation, "w06000022").name_en == "Newport"
    assert explain(allocation, "CASNEWYDD").name_en == "Newport"
    with pytest.raises(InputError) as caught:
        explain(allocation, "Atlantis")
    assert "no council is called 'Atlantis'" in caught.value.render()


def test_toy_without_population_has_no_per_head(toy):
    explanation = explain(settle(load_dataset(toy)), "Bryn")
    assert explanation.population is None
    assert lines(explanation)["aef"] == pytest.approx(204)
