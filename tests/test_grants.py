"""Specific grants: dehypothecation, consolidation, protection, multi-year paths (toy by hand)."""

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from dsg import load_dataset
from dsg.errors import InputError
from dsg.grants.moves import protected_allocation
from dsg.pipeline import grant_report

GRANTS = "grant,ons_code,amount\nG,A,10\nG,B,20\nG,C,30\nG1,A,10\nG1,B,20\nG1,C,30\nG2,A,30\nG2,B,0\nG2,C,10\n"


@pytest.fixture
def toy_grants(make_toy):
    return make_toy(grants_csv=GRANTS)


def report(tmp_path, data, text):
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(text, encoding="utf-8")
    return grant_report(scenario, data)


def column(frame, name):
    return frame[name].to_list()


def test_dehypothecation_by_hand(toy_grants, tmp_path):
    # Before (tests/test_toy_by_hand.py): AEF 130, 204, 714. Moving G (10, 20, 30) into S1:
    # S1 = 1060, aef_total = 1060, base = 110, 220, 730. S1's IBAs 106, 212, 742 with S2's
    # 70, 90, 240 and fixed 10, 0, -10 give SSA 186, 302, 972 (1460); Band D = 400 / 400 = 1;
    # formula AEF 136, 202, 722; the 2 % floor (112.2, 224.4, 744.6) lifts B and C.
    result = report(tmp_path, toy_grants, '[[dehypothecate]]\ngrant = "G"\ninto_service = "S1"\n')
    moved = result.dehypothecation()
    assert "year" not in moved.columns
    assert moved.columns[:7] == ["grant", "ons_code", "council", "grant_before", "aef_gain", "net", "floor_protected"]
    assert column(moved, "grant_before") == pytest.approx([10, 20, 30])
    assert column(moved, "aef_gain") == pytest.approx([6, 20.4, 30.6])
    assert column(moved, "net") == pytest.approx([-4, 0.4, 0.6])
    assert column(moved, "floor_protected") == [False, True, True]
    final = result.path.final
    assert column(final.councils, "base_aef") == pytest.approx([110, 220, 730])
    assert final.aef_total == pytest.approx(1060)
    # net adds up to the Wales AEF change less the grant moved: (1105 - 1048) - 60.
    assert sum(column(moved, "net")) == pytest.approx(final.councils["aef"].sum() - 1048 - 60)
    assert "G" not in result.path.end_grants


def test_consolidation_by_hand(toy_grants, tmp_path):
    # old = G1 + G2 = 40, 20, 40; 10 % cut: 90 shared by population (0.1, 0.2, 0.7) = 9, 18, 63.
    text = '[[consolidate]]\ngrants = ["G1", "G2"]\ninto = "M"\ncut_percent = 10\nkey = { pop = 1.0 }\n'
    merged = report(tmp_path, toy_grants, text).consolidation()
    assert column(merged, "old") == pytest.approx([40, 20, 40])
    assert column(merged, "new") == pytest.approx([9, 18, 63])
    assert column(merged, "change") == pytest.approx([-31, -2, 23])
    assert column(merged, "pct_change") == pytest.approx([-77.5, -10, 57.5])
    current = report(tmp_path, toy_grants, text.replace("{ pop = 1.0 }", '"current"')).consolidation()
    assert column(current, "new") == pytest.approx([36, 18, 36])


def test_protection_by_hand(toy_grants, tmp_path):
    # -20 %: floors 32, 16, 32. A needs 23; B gains 2 and C 31 above theirs, so the rate is
    # 23 / 33: B gives 2 x 23/33 and C 31 x 23/33.
    text = (
        '[[consolidate]]\ngrants = ["G1", "G2"]\ninto = "M"\ncut_percent = 10\nkey = { pop = 1.0 }\n'
        "protection_percent = -20\n"
    )
    merged = report(tmp_path, toy_grants, text).consolidation()
    assert column(merged, "new") == pytest.approx([32, 18 - 2 * 23 / 33, 63 - 31 * 23 / 33])
    assert sum(column(merged, "new")) == pytest.approx(90)
    # -10 % needs exactly all of C's gain (rate 1): 36, 18, 36.
    exact = report(tmp_path, toy_grants, text.replace("-20", "-10")).consolidation()
    assert column(exact, "new") == pytest.approx([36, 18, 36])
    with pytest.raises(InputError) as caught:
        report(tmp_path, toy_grants, text.replace("-20", "-5"))
    assert caught.value.problems[0].code == "protection_not_fundable"


def test_transition_and_years_by_hand(toy_grants, tmp_path):
    # Two years from old (40, 20, 40) to keyed (9, 18, 63): half-way first (24.5, 19, 51.5).
    text = (
        '[[consolidate]]\ngrants = ["G1", "G2"]\ninto = "M"\ncut_percent = 10\nkey = { pop = 1.0 }\n'
        'transition_years = 2\n[[years]]\nyear = "2026-27"\naef_growth_percent = 10\n'
    )
    result = report(tmp_path, toy_grants, text)
    merged = result.consolidation()
    assert merged["year"].unique(maintain_order=True).to_list() == ["2025-26", "2026-27"]
    first, second = merged.filter(pl.col("year") == "2025-26"), merged.filter(pl.col("year") == "2026-27")
    assert column(first, "new") == pytest.approx([24.5, 19, 51.5])
    assert column(second, "old") == pytest.approx([24.5, 19, 51.5])
    assert column(second, "new") == pytest.approx([9, 18, 63])
    # The year after: base = last AEF (130, 204, 714); AEF shared = 1048 x 1.1 = 1152.8;
    # services and IBAs grow 10 %: SSA 197, 319, 1024 (1540); Band D = 387.2 / 400 = 0.968;
    # formula AEF 148.6, 222.2, 782, all above the 2 % floor.
    years = result.multiyear()
    later = years.filter(pl.col("year") == "2026-27")
    assert column(later, "base_aef") == pytest.approx([130, 204, 714])
    assert column(later, "aef") == pytest.approx([148.6, 222.2, 782])
    assert column(later, "floor_topup") == pytest.approx([0, 0, 0])
    wales = result.multiyear_wales()
    assert column(wales, "aef_total") == pytest.approx([1000, 1152.8])


def test_phased_dehypothecation(toy_grants, tmp_path):
    # Over 3 years: a third of G moves each year; year t keeps (3 - t) / 3 hypothecated.
    text = (
        '[[dehypothecate]]\ngrant = "G"\ninto_service = "S1"\ntransition_years = 3\n'
        '[[years]]\nyear = "2026-27"\n[[years]]\nyear = "2027-28"\n'
    )
    result = report(tmp_path, toy_grants, text)
    moved = result.dehypothecation()
    for year in ("2025-26", "2026-27", "2027-28"):
        assert column(moved.filter(pl.col("year") == year), "grant_before") == pytest.approx([10 / 3, 20 / 3, 10])
    assert "G" not in result.path.end_grants
    assert result.path.allocations[0].dataset.grants.filter(pl.col("grant") == "G")[
        "amount"
    ].to_list() == pytest.approx([20 / 3, 40 / 3, 20])


def test_new_block_with_its_own_weights(toy_grants, tmp_path):
    text = '[[dehypothecate]]\ngrant = "G"\ninto_service = "Housing"\nweights = { dep = 1.0 }\n'
    result = report(tmp_path, toy_grants, text)
    services = result.path.final.dataset.services
    assert dict(services.select("service", "total").iter_rows())["Housing"] == pytest.approx(60)
    with pytest.raises(InputError) as caught:
        report(tmp_path, toy_grants, text.replace("weights = { dep = 1.0 }\n", ""))
    assert caught.value.problems[0].code == "new_service_needs_weights"


def test_hypothecation_level(toy_grants, tmp_path):
    result = report(tmp_path, toy_grants, '[[dehypothecate]]\ngrant = "G"\ninto_service = "S1"\n')
    level = result.hypothecation()
    # Before: grants 50, 40, 70 on AEF 130, 204, 714; after G moves: 40, 20, 40.
    assert column(level, "grants_before") == pytest.approx([50, 40, 70])
    assert column(level, "level_before") == pytest.approx([100 * 50 / 180, 100 * 40 / 244, 100 * 70 / 784])
    assert column(level, "grants_after") == pytest.approx([40, 20, 40])
    assert column(level, "level_after") == pytest.approx([100 * 40 / 176, 100 * 20 / 244.4, 100 * 40 / 784.6])


@settings(max_examples=300, deadline=None)
@given(
    arrays(np.float64, st.integers(2, 25), elements=st.floats(1.0, 1e7)),
    st.floats(-30.0, 5.0),
    st.floats(0.0, 0.5),
    st.randoms(use_true_random=False),
)
def test_protection_holds_and_conserves(previous, protection, cut, random):
    weights = np.array([random.random() + 0.01 for _ in previous])
    proposed = (1 - cut) * previous.sum() * weights / weights.sum()
    new, rate = protected_allocation(previous, proposed, protection)
    if rate <= 1.0:
        assert new.sum() == pytest.approx(proposed.sum(), rel=1e-9)
        assert np.all(new >= previous * (1 + protection / 100) - 1e-6 * previous)


@pytest.mark.parametrize("cut, protection, years", [(8.0, -4.0, 3), (0.0, None, 1), (15.0, -10.0, 2)])
def test_default_dataset_paths(tmp_path, cut, protection, years):
    protect = f"protection_percent = {protection}\n" if protection is not None else ""
    text = (
        '[[dehypothecate]]\ngrant = "Housing Support Grant"\ninto_service = "Other services"\n'
        f'[[consolidate]]\ngrants = ["Bus Network Grant", "Bus Services Support Grant"]\ninto = "Local Bus Grant"\n'
        f"cut_percent = {cut}\nkey = {{ population = 0.6, land_area_km2 = 0.4 }}\n{protect}transition_years = {years}\n"
        '[[years]]\nyear = "2026-27"\naef_growth_percent = 3.0\n[[years]]\nyear = "2027-28"\naef_growth_percent = 2.5\n'
    )
    result = report(tmp_path, None, text)
    old_total = 64_000_000
    assert result.path.end_grants["Local Bus Grant"].sum() == pytest.approx((1 - cut / 100) * old_total)
    merged = result.consolidation()
    if protection is not None:
        assert (merged["pct_change"] >= protection - 1e-9).all()
    for previous, current in zip(result.path.allocations, result.path.allocations[1:]):
        # The base rolls forward exactly: last year's AEF (no transfers in later years here).
        np.testing.assert_allclose(current.councils["base_aef"].to_numpy(), previous.councils["aef"].to_numpy())
        assert (current.councils["pct_change"] >= current.dataset.settlement.floor_percent - 1e-9).all()
    moved = result.dehypothecation()
    first = result.path.allocations[0]
    assert moved["net"].sum() == pytest.approx(first.councils["aef"].sum() - 6_130_842_000 - 166_763_000, abs=1e-3)
    assert load_dataset().grants.height == 8 * 22


def test_new_block_weights_from_the_weights_table(toy_grants, tmp_path):
    text = '[weights.Housing]\ndep = 1.0\n[[dehypothecate]]\ngrant = "G"\ninto_service = "Housing"\n'
    result = report(tmp_path, toy_grants, text)
    weights = result.path.final.dataset.weights.filter(pl.col("service") == "Housing")
    assert weights.select("indicator", "weight").rows() == [("dep", 1.0)]
    with pytest.raises(InputError) as caught:
        report(tmp_path, toy_grants, text.replace("[[dehypothecate]]", "[[dehypothecatez]]"))
    assert {p.code for p in caught.value.problems} >= {"unknown_service", "unknown_key_suggest"}
    assert "did you mean dehypothecate?" in str([p.render() for p in caught.value.problems])


# Regressions found in review: a name reused after a merge is a new grant; edge cases end in
# listed problems, never a traceback or NaN.

REUSE = """[[consolidate]]
grants = ["G1", "G2"]
into = "M"
key = { pop = 1.0 }
transition_years = 3
[[years]]
year = "2026-27"
[[years.dehypothecate]]
grant = "M"
into_service = "S1"
[[years.consolidate]]
grants = ["G"]
into = "M"
[[years]]
year = "2027-28"
"""


def test_a_reused_name_is_not_touched_by_an_older_transition(toy_grants, tmp_path):
    result = report(tmp_path, toy_grants, REUSE)
    merged = result.consolidation()
    assert merged.filter(pl.col("year") == "2027-28").height == 0
    np.testing.assert_allclose(result.path.end_grants["M"], [10, 20, 30])


def test_a_phased_move_stops_when_its_grant_is_merged_into_the_same_name(toy_grants, tmp_path):
    text = (
        '[[dehypothecate]]\ngrant = "G1"\ninto_service = "S1"\ntransition_years = 3\n'
        '[[years]]\nyear = "2026-27"\n[[years.consolidate]]\ngrants = ["G1", "G2"]\ninto = "G1"\n'
        '[[years]]\nyear = "2027-28"\n'
    )
    result = report(tmp_path, toy_grants, text)
    moved = result.dehypothecation()
    assert moved["year"].unique(maintain_order=True).to_list() == ["2025-26", "2026-27"]
    # G1 after two thirds moved (10/3, 20/3, 10) plus G2 (30, 0, 10), still hypothecated.
    np.testing.assert_allclose(result.path.end_grants["G1"], [10 / 3 + 30, 20 / 3, 10 + 10])


@pytest.mark.parametrize(
    "text, fragment",
    [
        ('[[consolidate]]\ngrants = ["G1", "G1 "]\ninto = "M"\n', "a grant is listed more than once"),
        ('[[years]]\nyear = "2026-27"\nservices = 5\n', "years[1].services: expected a table"),
        ('[[years]]\nyear = "2026-27"\nindicators = { pop = { A = 0, B = 0, C = 0 } }\n', "indicator 'pop' sums to 0"),
        (
            '[[dehypothecate]]\ngrant = "G1"\ninto_service = "New"\nweights = { pop = 0.5, dep = 0.6 }\n',
            "weights sum to 1.1",
        ),
        (
            '[[dehypothecate]]\ngrant = "G1"\ninto_service = "S1"\nweights = { dep = 1.0 }\n',
            "'S1' is already a service",
        ),
        (
            '[settlement]\nfloor_percent = "x"\n[[years]]\nyear = "2026-27"\n[[years.dehypothecate]]\ngrant = "Nope"\n'
            'into_service = "S1"\n',
            "years[1].dehypothecate[1].grant: unknown grant 'Nope'",
        ),
    ],
)
def test_grant_scenario_problems(toy_grants, tmp_path, text, fragment):
    with pytest.raises(InputError) as caught:
        report(tmp_path, toy_grants, text)
    assert fragment in caught.value.render()
    assert "needs its own weights" not in caught.value.render()


def test_each_problem_is_listed_once(toy_grants, tmp_path):
    text = '[[dehypothecate]]\ngrant = "G1"\ninto_service = "New"\n[weights."New"]\npop = 0.5\nbogus = 0.5\n'
    with pytest.raises(InputError) as caught:
        report(tmp_path, toy_grants, text)
    assert [p.code for p in caught.value.problems] == ["unknown_indicator"]
    text = '[settlement]\nfloor_percent = 25.0\nfloor_funding = "self"\n[[dehypothecate]]\ngrant = "G1"\ninto_service = "S2"\n'
    with pytest.raises(InputError) as caught:
        report(tmp_path, toy_grants, text)
    assert [p.code for p in caught.value.problems] == ["floor_not_self_fundable"]


def test_empty_grants_merge_into_nothing(make_toy, tmp_path):
    data = make_toy(grants_csv="grant,ons_code,amount\nZ,A,0\nZ,B,0\nZ,C,0\n")
    for key in ('"current"', "{ pop = 1.0 }"):
        merged = report(tmp_path, data, f'[[consolidate]]\ngrants = ["Z"]\ninto = "ZZ"\nkey = {key}\n').consolidation()
        assert column(merged, "new") == [0, 0, 0]
        assert merged["pct_change"].dtype == pl.Float64 and merged["pct_change"].null_count() == 3


def test_a_failed_report_leaves_the_old_files(tmp_path):
    from click.testing import CliRunner

    from dsg.cli import main

    out = tmp_path / "results"
    out.mkdir()
    (out / "consolidation.csv").write_text("old report\n")
    (out / "hypothecation.csv").mkdir()  # makes the last CSV fail
    scenario = tmp_path / "s.toml"
    scenario.write_text('[[dehypothecate]]\ngrant = "Housing Support Grant"\ninto_service = "Other services"\n')
    result = CliRunner().invoke(main, ["grants", "report", "--scenario", str(scenario), "--out", str(out)])
    assert result.exit_code == 2
    assert sorted(p.name for p in out.iterdir()) == ["consolidation.csv", "hypothecation.csv"]
    assert (out / "consolidation.csv").read_text() == "old report\n"


def test_repeated_year_labels_are_refused(toy_grants, tmp_path):
    with pytest.raises(InputError) as caught:
        report(
            tmp_path,
            toy_grants,
            '[[years]]\nyear = "2026-27"\n[[years]]\nyear = "2026-27"\n[[years]]\nyear = "2025-26"\n',
        )
    assert [p.key for p in caught.value.problems] == ["years[2].year", "years[3].year"]


def test_decomposition_of_a_move_into_a_new_block(tmp_path):
    from dsg.analysis.decompose import decompose_comparison
    from dsg.pipeline import compare as compare_files

    scenario = tmp_path / "nb.toml"
    scenario.write_text(
        '[[dehypothecate]]\ngrant = "LAEG Reform"\ninto_service = "Education reform"\nweights = { population = 1.0 }\n'
    )
    comparison = compare_files([scenario])
    for method in ("shapley", "sequential"):
        [parts] = decompose_comparison(comparison, method)
        # The moved grant joins the AEF total (the quantum), a new service and the base.
        assert set(parts.causes) == {"services", "weights", "quantum", "base"}
        total = sum(parts.parts[c].to_numpy() for c in parts.causes)
        np.testing.assert_allclose(total, parts.parts["total"].to_numpy(), atol=0.005)
