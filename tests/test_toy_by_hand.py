"""SPEC §3 worked by hand on the three-council toy dataset (tests/conftest.py).

The hand working, once, for the external floor:

    shares   pop  = 100, 200, 700 / 1000 = 0.1, 0.2, 0.7
             dep  = 1, 1, 2 / 4          = 0.25, 0.25, 0.5
    IBA S1   1000 x pop                  = 100, 200, 700
    IBA S2   400 x (0.5 pop + 0.5 dep)   = 70, 90, 240
    SSA      IBAs + fixed (10, 0, -10)   = 180, 290, 930            (sum 1400)
    Band D   (1400 - 1000) / (50+100+250) = 1.0
    tax      1.0 x tb                    = 50, 100, 250
    formula  SSA - tax                   = 130, 190, 680            (sum 1000 = aef_total)
    floor    base x 1.02                 = 102, 204, 714
    top-up   max(0, floor - formula)     = 0, 14, 34                 floor cost 48
    AEF                                  = 130, 204, 714
    NDR      300 x pop share             = 30, 60, 210
    RSG      AEF - NDR                   = 100, 144, 504
    change   AEF - base                  = 30, 4, 14
    % change                             = 30, 2, 2
    rank     30 first; B and C tie at 2 % and keep council order = 1, 2, 3
"""

import pytest

from dsg import load_dataset, settle
from dsg.errors import InputError
from tests.conftest import TOY_FILES

SETTLEMENT = TOY_FILES["dataset.toml"]


def columns(allocation, *names):
    table = allocation.table("en")
    return {name: table[name].to_list() for name in names}


def with_settlement(make_toy, old: str, new: str):
    assert old in SETTLEMENT
    return load_dataset(make_toy(dataset_toml=SETTLEMENT.replace(old, new)))


def test_every_column_external_floor(toy):
    allocation = settle(load_dataset(toy))
    table = allocation.table("en")
    expected = {
        "ons_code": ["A", "B", "C"],
        "council": ["Aber", "Bryn", "Caer"],
        "ssa": [180, 290, 930],
        "assumed_council_tax": [50, 100, 250],
        "aef_formula": [130, 190, 680],
        "floor_topup": [0, 14, 34],
        "cap_reduction": [0, 0, 0],
        "self_funding": [0, 0, 0],
        "aef": [130, 204, 714],
        "ndr": [30, 60, 210],
        "rsg": [100, 144, 504],
        "base_aef": [100, 200, 700],
        "change": [30, 4, 14],
        "pct_change": [30, 2, 2],
        "rank": [1, 2, 3],
    }
    assert table.columns == list(expected)
    for name, values in expected.items():
        if isinstance(values[0], str) or name == "rank":
            assert table[name].to_list() == values, name
        else:
            assert table[name].to_list() == pytest.approx(values, abs=1e-9), name
    assert allocation.notional_band_d == pytest.approx(1.0)
    assert allocation.aef_total == 1000
    assert allocation.floor_cost == pytest.approx(48)
    assert allocation.table("cy")["council"].to_list() == ["Aber Cy", "Bryn Cy", "Caer Cy"]


def test_self_funded_floor(make_toy):
    # base 100, 180, 690 and a 0 % floor: C needs 10; A gains 30 and B 10 above their
    # floors, so lambda = 10 / 40 = 0.25 takes 7.5 from A and 2.5 from B.
    dataset = load_dataset(
        make_toy(
            base_csv="ons_code,base_aef\nA,100\nB,180\nC,690\n",
            dataset_toml=SETTLEMENT.replace("floor_percent = 2.0", "floor_percent = 0").replace('"external"', '"self"'),
        )
    )
    allocation = settle(dataset)
    got = columns(allocation, "floor_topup", "self_funding", "aef")
    assert got["floor_topup"] == pytest.approx([0, 0, 10])
    assert got["self_funding"] == pytest.approx([7.5, 2.5, 0])
    assert got["aef"] == pytest.approx([122.5, 187.5, 690])
    assert allocation.self_funding_rate == pytest.approx(0.25)
    assert allocation.floor_cost == pytest.approx(0, abs=1e-9)


def test_cap_with_external_floor(make_toy):
    # base 100, 180, 690; floor 0 %, cap 10 %: A is capped at 110 (-20), C lifted to 690 (+10).
    dataset = load_dataset(
        make_toy(
            base_csv="ons_code,base_aef\nA,100\nB,180\nC,690\n",
            dataset_toml=SETTLEMENT.replace("floor_percent = 2.0", "floor_percent = 0\ncap_percent = 10"),
        )
    )
    allocation = settle(dataset)
    got = columns(allocation, "floor_topup", "cap_reduction", "self_funding", "aef")
    assert got["cap_reduction"] == pytest.approx([20, 0, 0])
    assert got["floor_topup"] == pytest.approx([0, 0, 10])
    assert got["aef"] == pytest.approx([110, 190, 690])
    # The cap saves more than the floor costs: the funder pays 10 less than aef_total.
    assert allocation.floor_cost == pytest.approx(-10)


def test_cap_with_self_funded_floor(make_toy):
    # cap 25 %: A capped at 125 (-5); C needs 10; need = 10 - 5 = 5, shared over gains
    # A 25 (125 - 100, the gain below the cap) and B 10: lambda = 5 / 35.
    dataset = load_dataset(
        make_toy(
            base_csv="ons_code,base_aef\nA,100\nB,180\nC,690\n",
            dataset_toml=SETTLEMENT.replace("floor_percent = 2.0", "floor_percent = 0\ncap_percent = 25").replace(
                '"external"', '"self"'
            ),
        )
    )
    allocation = settle(dataset)
    got = columns(allocation, "cap_reduction", "self_funding", "aef")
    assert got["cap_reduction"] == pytest.approx([5, 0, 0])
    assert got["self_funding"] == pytest.approx([25 / 7, 10 / 7, 0])
    assert got["aef"] == pytest.approx([125 - 25 / 7, 190 - 10 / 7, 690])
    assert allocation.self_funding_rate == pytest.approx(1 / 7)
    assert allocation.floor_cost == pytest.approx(0, abs=1e-9)
    assert sum(got["aef"]) == pytest.approx(1000)


def test_self_funded_floor_that_cannot_be_paid(make_toy):
    # With the 2 % floor, B and C need 48 but only A gains (28 above its floor).
    dataset = with_settlement(make_toy, '"external"', '"self"')
    with pytest.raises(InputError) as caught:
        settle(dataset)
    [problem] = caught.value.problems
    assert problem.code == "floor_not_self_fundable"
    assert problem.key == "settlement.floor_funding"
    assert problem.params["rate"] == pytest.approx(48 / 28)


def test_notional_band_d_given(make_toy):
    dataset = with_settlement(make_toy, "aef_total = 1000", "notional_band_d = 0.5")
    allocation = settle(dataset)
    got = columns(allocation, "assumed_council_tax", "aef_formula")
    assert got["assumed_council_tax"] == pytest.approx([25, 50, 125])
    assert got["aef_formula"] == pytest.approx([155, 240, 805])
    assert allocation.aef_total == pytest.approx(1200)


def test_no_floor(make_toy):
    dataset = with_settlement(make_toy, "floor_percent = 2.0\n", "")
    allocation = settle(dataset)
    assert columns(allocation, "aef")["aef"] == pytest.approx([130, 190, 680])
    assert allocation.floor_cost == 0


def test_negative_band_d_is_refused(make_toy):
    dataset = with_settlement(make_toy, "aef_total = 1000", "aef_total = 1500")
    with pytest.raises(InputError) as caught:
        settle(dataset)
    assert caught.value.problems[0].code == "negative_band_d"
    assert caught.value.problems[0].params["value"] == pytest.approx(-0.25)
