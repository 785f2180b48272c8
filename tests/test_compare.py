"""dsg compare and the decomposition of changes by cause."""

import itertools

import numpy as np
import pytest

from dsg import load_dataset, settle
from dsg.analysis import decompose as decompose_module
from dsg.analysis.decompose import decompose
from dsg.formula.apply import apply_scenario
from dsg.formula.scenario import parse_scenario
from dsg.pipeline import compare as compare_files


def scenario_file(tmp_path, name, text):
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def settle_with(dataset, text_table):
    return settle(apply_scenario(dataset, parse_scenario(text_table, "test")))


# Two causes on the toy: S2's total doubles (services) and the floor drops to 0 % (floor_cap).
SERVICES = {"services": {"S2": 800.0}}
FLOOR = {"settlement": {"floor_percent": 0.0}}
BOTH = {"services": {"S2": 800.0}, "settlement": {"floor_percent": 0.0}}


def test_two_cause_decomposition_by_hand(toy):
    dataset = load_dataset(toy)
    baseline = settle(dataset)
    scenario = settle_with(dataset, BOTH)
    v_none = baseline.councils["aef"].to_numpy()
    v_services = settle_with(dataset, SERVICES).councils["aef"].to_numpy()
    v_floor = settle_with(dataset, FLOOR).councils["aef"].to_numpy()
    v_both = scenario.councils["aef"].to_numpy()

    sequential = decompose(baseline, scenario, "sequential")
    assert sequential.causes == ("services", "floor_cap")
    np.testing.assert_allclose(sequential.parts["services"], v_services - v_none, atol=1e-9)
    np.testing.assert_allclose(sequential.parts["floor_cap"], v_both - v_services, atol=1e-9)

    shapley = decompose(baseline, scenario, "shapley")
    np.testing.assert_allclose(shapley.parts["services"], 0.5 * ((v_services - v_none) + (v_both - v_floor)), atol=1e-9)
    np.testing.assert_allclose(
        shapley.parts["floor_cap"], 0.5 * ((v_floor - v_none) + (v_both - v_services)), atol=1e-9
    )
    assert shapley.settlements == 4

    # The toy by hand: with S2 = 800 its IBAs are 140, 180, 480, so SSA = 250, 380, 1170
    # (sum 1800), Band D = (1800 - 1000) / 400 = 2, tax = 100, 200, 500 and formula AEF =
    # 150, 180, 670. The 2 % floor lifts B to 204 and C to 714; a 0 % floor to 200 and 700.
    np.testing.assert_allclose(v_services, [150, 204, 714], atol=1e-9)
    np.testing.assert_allclose(v_both, [150, 200, 700], atol=1e-9)
    np.testing.assert_allclose(v_both - v_none, [20, -4, -14], atol=1e-9)
    # Sequential: services +20, 0, 0 (B and C stay on the 2 % floor), then the floor -4, -14.
    np.testing.assert_allclose(sequential.parts["services"], [20, 0, 0], atol=1e-9)
    np.testing.assert_allclose(sequential.parts["floor_cap"], [0, -4, -14], atol=1e-9)


@pytest.mark.parametrize("method", ["shapley", "sequential"])
@pytest.mark.parametrize("measure", ["aef", "rsg"])
def test_parts_add_up_to_the_total_to_the_penny(method, measure):
    dataset = load_dataset()
    baseline = settle(dataset)
    scenario = settle_with(
        dataset,
        {
            "settlement": {"floor_percent": 3.5, "aef_total": 6.2e9, "ndr_pool": 1.2e9, "cap_percent": 9.0},
            "services": {"School Services": 3.1e9},
            "weights": {"Personal Social Services": {"population": 0.5, "lsoas_most_deprived_20pct": 0.5}},
        },
    )
    result = decompose(baseline, scenario, method, measure)
    assert set(result.causes) == {"services", "weights", "quantum", "ndr", "floor_cap"}
    parts = sum(result.parts[cause].to_numpy() for cause in result.causes)
    total = scenario.councils[measure].to_numpy() - baseline.councils[measure].to_numpy()
    assert np.abs(parts - total).max() < 0.005
    np.testing.assert_allclose(result.parts["total"], total)
    if measure == "aef":
        # NDR splits AEF between rates and grant; it cannot move AEF itself.
        assert np.abs(result.parts["ndr"].to_numpy()).max() < 1e-6
    if method == "shapley":
        assert result.settlements == 2 ** len(result.causes)


def test_shapley_does_not_depend_on_the_order_of_causes(monkeypatch):
    dataset = load_dataset()
    baseline = settle(dataset)
    scenario = settle_with(
        dataset,
        {"settlement": {"floor_percent": 3.5, "aef_total": 6.2e9}, "services": {"School Services": 3.1e9}},
    )
    first = decompose(baseline, scenario, "shapley").parts
    for order in itertools.islice(itertools.permutations(decompose_module.CAUSES), 1, 4):
        monkeypatch.setattr(decompose_module, "CAUSES", order)
        again = decompose(baseline, scenario, "shapley").parts
        for cause in ("services", "quantum", "floor_cap"):
            np.testing.assert_allclose(again[cause], first[cause], atol=1e-6)


def test_unchanged_scenario_has_no_causes():
    dataset = load_dataset()
    result = decompose(settle(dataset), settle(dataset), "shapley")
    assert result.causes == ()
    assert result.parts["total"].abs().max() == 0


def test_comparison_of_the_toy(toy, tmp_path):
    floor = scenario_file(tmp_path, "floor", 'name = "No floor"\n[settlement]\nfloor_percent = "none"\n')
    comparison = compare_files([floor], data=toy)
    table = comparison.scenario_table(0)
    # Without the floor B and C fall back to their formula AEF (190, 680): -14 and -34.
    assert table["difference"].to_list() == pytest.approx([0, -14, -34])
    assert table["pct_difference"].to_list() == pytest.approx([0, -100 * 14 / 204, -100 * 34 / 714])
    assert table["floor_topup_baseline"].to_list() == pytest.approx([0, 14, 34])
    # % change: A 30, B -5, C -2.86, so C moves up a place and B down one.
    assert table["rank_change"].to_list() == [0, -1, 1]
    [summary] = comparison.wales_summary()
    assert summary["scenario"] == "No floor"
    assert (summary["gaining"], summary["losing"], summary["on_floor"]) == (0, 2, 0)
    assert summary["floor_cost_baseline"] == pytest.approx(48)
    assert summary["floor_cost"] == 0
    assert summary["largest_loss_council"] == "Caer" and summary["largest_loss"] == pytest.approx(-34)
    sorted_table = comparison.scenario_table(0, sort="difference")
    assert sorted_table["council"].to_list() == ["Aber", "Bryn", "Caer"]
    assert comparison.scenario_table(0, sort="pct")["council"].to_list() == ["Aber", "Caer", "Bryn"]


def test_baseline_file_and_several_scenarios(tmp_path):
    floor = scenario_file(tmp_path, "floor", "[settlement]\nfloor_percent = 3.5\n")
    higher = scenario_file(tmp_path, "higher", "[settlement]\nfloor_percent = 4.0\n")
    comparison = compare_files([higher], baseline=floor)
    assert comparison.baseline_label == "floor"
    assert comparison.labels == ("higher",)
    table = comparison.scenario_table(0)
    assert (table["difference"] >= -1e-6).all()
    several = compare_files([floor, higher], baseline="default")
    assert several.baseline_label == "wales-2025-26"
    assert several.long_table()["scenario"].unique(maintain_order=True).to_list() == ["floor", "higher"]


def test_by_region_adds_up_to_wales(tmp_path):
    floor = scenario_file(tmp_path, "floor", "[settlement]\nfloor_percent = 3.5\n")
    comparison = compare_files([floor])
    regions = comparison.by_region()
    assert regions["region"].to_list() == ["North Wales", "Mid Wales", "South West Wales", "South East Wales"]
    assert regions["councils"].to_list() == [6, 2, 4, 10]
    assert regions["aef"].sum() == pytest.approx(comparison.scenarios[0].councils["aef"].sum())
    assert comparison.by_region("cy")["region"][0] == "Gogledd Cymru"


def next_year(tmp_path):
    """The embedded dataset as 'last year', and a 'this year' folder in which every kind of
    input has moved: indicator data, tax base, a service total, base, NDR and the AEF total."""
    import shutil

    from dsg.formula.dataset import embedded_dataset_dir

    last, this = tmp_path / "2025-26", tmp_path / "2026-27"
    shutil.copytree(str(embedded_dataset_dir()), last)
    shutil.copytree(last, this)

    def edit(name, change):
        path = this / name
        path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")

    def scale_rows(text, prefix, column, factor):
        lines = text.splitlines()
        header = lines[0].split(",")
        at = header.index(column)
        out = [lines[0]]
        for index, line in enumerate(lines[1:]):
            cells = line.split(",")
            if line.startswith(prefix) or prefix in cells:
                cells[at] = f"{float(cells[at]) * (factor + 0.002 * (index % 7)):.2f}"
            out.append(",".join(cells))
        return "\n".join(out) + "\n"

    edit("indicators.csv", lambda t: scale_rows(t, "population", "value", 1.01))
    edit("indicators.csv", lambda t: scale_rows(t, "ct_band_d_equivalents", "value", 1.02))
    edit("services.csv", lambda t: t.replace("School Services,2974926840", "School Services,3074926840"))
    edit("base.csv", lambda t: scale_rows(t, "W0600001", "base_aef", 1.03))
    edit("dataset.toml", lambda t: t.replace("aef_total = 6130842000", "aef_total = 6330842000"))
    edit("dataset.toml", lambda t: t.replace("ndr_pool = 1100000000", "ndr_pool = 1150000000"))
    return last, this


@pytest.mark.parametrize("method", ["shapley", "sequential"])
def test_year_on_year_splits_the_change_by_every_cause(tmp_path, method):
    """Two dataset folders compare council by council, and the change splits into indicator
    data, tax base, service totals, base, NDR and the quantum, adding up to the penny."""
    from dsg.analysis.decompose import decompose_comparison

    last, this = next_year(tmp_path)
    comparison = compare_files([this], baseline=last)
    (result,) = decompose_comparison(comparison, method, "rsg")
    assert set(result.causes) == {"indicators", "taxbase", "services", "base", "ndr", "quantum"}
    parts = sum(result.parts[cause].to_numpy() for cause in result.causes)
    total = comparison.scenarios[0].councils["rsg"].to_numpy() - comparison.baseline.councils["rsg"].to_numpy()
    assert np.abs(parts - total).max() < 0.005
    if method == "shapley":
        assert result.settlements == 2**6
        # Averaged over every order, each cause moves someone (the base only through the
        # floor: in the sequential order the quantum has already lifted everyone off it).
        for cause in result.causes:
            assert np.abs(result.parts[cause].to_numpy()).max() > 1000, cause


def test_datasets_with_different_councils_are_refused(tmp_path):
    from dsg.errors import InputError

    last, this = next_year(tmp_path)
    councils = (this / "councils.csv").read_text(encoding="utf-8").replace("W06000023", "W06000099")
    (this / "councils.csv").write_text(councils, encoding="utf-8")
    for name in ("base.csv", "indicators.csv", "fixed.csv", "grants.csv"):
        path = this / name
        if path.exists():
            path.write_text(path.read_text(encoding="utf-8").replace("W06000023", "W06000099"), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        compare_files([this], baseline=last)
    assert "W06000099" in caught.value.render("en") or "W06000023" in caught.value.render("en")


def test_the_decomposition_chart_shows_every_stack_whole(tmp_path, monkeypatch):
    """A cause worth nothing (NDR, for AEF) draws bars of no width at the end of each stack;
    their sticky edge cut Cardiff's longest bar at the frame. The axis now spans every stack."""
    from dsg.analysis.decompose import decompose_comparison
    from dsg.output import charts

    last, this = next_year(tmp_path)
    comparison = compare_files([this], baseline=last)
    (result,) = decompose_comparison(comparison, "shapley", "aef")
    limits = {}
    monkeypatch.setattr(charts, "save", lambda figure, path: limits.setdefault("x", figure.axes[0].get_xlim()))
    charts.decomposition_chart(result, "2026-27", tmp_path / "d.png")
    parts = np.stack([result.parts[cause].to_numpy() for cause in result.causes]) / charts.MILLION
    low, high = limits["x"]
    assert high > np.maximum(parts, 0).sum(axis=0).max() and low < np.minimum(parts, 0).sum(axis=0).min()
