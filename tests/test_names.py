"""Names as people type them (issue 12, item 4): councils, services and indicators found
without regard to case, accents, spaces or punctuation, short forms of councils, and "did you
mean" for a name that matches nothing."""

import pytest
from click.testing import CliRunner

from dsg import load_dataset
from dsg.analysis.names import council_index, council_problems
from dsg.cli import main
from dsg.formula.names import plain, suggestions


@pytest.fixture(scope="module")
def wales():
    return load_dataset()


@pytest.mark.parametrize(
    "typed, code",
    [
        ("Isle of Anglesey", "W06000001"),
        ("Anglesey", "W06000001"),
        ("Ynys Mon", "W06000001"),
        ("ynys-môn", "W06000001"),
        ("RCT", "W06000016"),
        ("rhondda cynon taf", "W06000016"),
        ("Vale", "W06000014"),
        ("Bro Morgannwg", "W06000014"),
        ("NPT", "W06000012"),
        ("Castell-nedd Port Talbot", "W06000012"),
        ("Merthyr", "W06000024"),
        ("  CAERDYDD ", "W06000015"),
        ("w06000015", "W06000015"),
    ],
)
def test_a_council_answers_to_its_names_and_short_forms(wales, typed, code):
    assert wales.council_codes[council_index(wales, typed)] == code


def test_a_near_miss_gets_did_you_mean_and_nonsense_the_list(wales):
    [near] = council_problems(wales, "Cardif")
    assert near.render("en") == "COUNCIL: no council is called 'Cardif'; did you mean Cardiff?"
    assert near.render("cy") == "COUNCIL: nid oes cyngor o'r enw 'Cardif'; ai Cardiff oedd dan sylw?"
    [far] = council_problems(wales, "Zzyzx")
    assert far.code == "unknown_council_name" and "Isle of Anglesey, Gwynedd" in far.render("en")


def test_plain_names_ignore_case_accents_and_punctuation():
    assert plain("  Ynys  Môn ") == plain("ynys-mon") == "ynys mon"
    assert plain("Pen-y-bont ar Ogwr") == "pen y bont ar ogwr"
    assert plain("lsoas_most_deprived_20pct") == plain("LSOAs most deprived 20pct")


def test_suggestions_are_the_nearest_and_at_most_three():
    spellings = {"a": ("Personal Social Services",), "b": ("School Services",), "c": ("Other services",)}
    assert suggestions("Personal Social Servics", spellings)[0] == "a"
    assert suggestions("qqqq", spellings) == []
    assert len(suggestions("services", spellings)) <= 3


def sweep(service: str, indicator: str, *out: str):
    steps = ["--from", "0", "--to", "1", "--steps", "3"]
    return CliRunner().invoke(main, ["sweep", "--service", service, "--indicator", indicator, *steps, *out])


def test_commands_take_forgiving_service_and_indicator_names(tmp_path):
    exact = sweep("Personal Social Services", "population", "--out", str(tmp_path / "exact.csv"))
    loose = sweep("gwasanaethau cymdeithasol personol", "POPULATION", "--out", str(tmp_path / "loose.csv"))
    assert exact.exit_code == 0 and loose.exit_code == 0, loose.output
    assert (tmp_path / "exact.csv").read_text() == (tmp_path / "loose.csv").read_text()
    wrong = sweep("Personal Social Servics", "popluation")
    assert wrong.exit_code == 2
    assert (
        "--service: unknown service 'Personal Social Servics'; did you mean Personal Social Services?" in wrong.output
    )
    assert "--indicator: unknown indicator 'popluation'; did you mean population?" in wrong.output


def test_a_scenario_may_name_services_and_indicators_forgivingly(tmp_path):
    exact = tmp_path / "exact.toml"
    exact.write_text(
        '[services]\n"School Services" = 3.1e9\n\n'
        '[weights."Personal Social Services"]\npopulation = 0.5\nlsoas_most_deprived_20pct = 0.5\n',
        encoding="utf-8",
    )
    loose = tmp_path / "loose.toml"
    loose.write_text(
        '[services]\n"school services" = 3.1e9\n\n'
        '[weights."Gwasanaethau Cymdeithasol Personol"]\nPopulation = 0.5\n"LSOAs most deprived 20pct" = 0.5\n',
        encoding="utf-8",
    )
    runner = CliRunner()
    first = runner.invoke(main, ["run", "--scenario", str(exact), "--out", str(tmp_path / "exact.csv")])
    second = runner.invoke(main, ["run", "--scenario", str(loose), "--out", str(tmp_path / "loose.csv")])
    assert first.exit_code == 0 and second.exit_code == 0, second.output
    assert (tmp_path / "exact.csv").read_text() == (tmp_path / "loose.csv").read_text()
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('[services]\n"Schol Services" = 3.1e9\n', encoding="utf-8")
    result = runner.invoke(main, ["run", "--scenario", str(wrong)])
    assert result.exit_code == 2
    assert "unknown service 'Schol Services'; did you mean School Services?" in result.output


def test_a_forgiving_name_with_a_refused_value_is_not_called_unknown(tmp_path):
    scenario = tmp_path / "s.toml"
    scenario.write_text('[services]\n"school services" = 1e20\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["run", "--scenario", str(scenario)])
    assert result.exit_code == 2
    assert "outside the plausible range" in result.output and "unknown service" not in result.output


EXACT_PATH = """
name = "exact"
[[dehypothecate]]
grant = "Housing Support Grant"
into_service = "Other services"
[[consolidate]]
grants = ["Bus Network Grant", "Bus Services Support Grant"]
into = "Local Bus Grant"
key = { population = 0.5, land_area_km2 = 0.5 }
[[years]]
year = "2026-27"
services = { "School Services" = 3100000000 }
indicators = { population = { W06000015 = 372000, W06000016 = 240000 } }
"""

FORGIVING_PATH = """
name = "forgiving"
[[dehypothecate]]
grant = "housing support grant"
into_service = "other services"
[[consolidate]]
grants = ["Grant Rhwydwaith Bysiau", "bus services support grant"]
into = "Local Bus Grant"
key = { Population = 0.5, "land area km2" = 0.5 }
[[years]]
year = "2026-27"
services = { "school services" = 3100000000 }
indicators = { POPULATION = { Cardiff = 372000, RCT = 240000 } }
"""


def test_grant_moves_and_years_take_forgiving_names(tmp_path):
    """Grants by English or Welsh name in any case, a service, indicators and councils by any
    of their spellings: the same settlements, year by year, as the exact names give."""
    from dsg.pipeline import run

    (tmp_path / "exact.toml").write_text(EXACT_PATH, encoding="utf-8")
    (tmp_path / "forgiving.toml").write_text(FORGIVING_PATH, encoding="utf-8")
    exact, forgiving = run(None, tmp_path / "exact.toml"), run(None, tmp_path / "forgiving.toml")
    assert forgiving.years == exact.years == ("2025-26", "2026-27")
    for a, b in zip(exact.allocations, forgiving.allocations):
        assert a.councils.equals(b.councils)


def test_near_misses_in_grant_moves_and_years_get_did_you_mean(tmp_path):
    text = (
        FORGIVING_PATH.replace('"housing support grant"', '"Housing Suport Grant"')
        .replace("Cardiff =", "Cardif =")
        .replace('"school services"', '"school servces"')
    )
    (tmp_path / "s.toml").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["run", "--scenario", str(tmp_path / "s.toml")], env={"DSG_LANG": ""})
    assert result.exit_code == 2, result.output
    out = result.output
    assert "dehypothecate[1].grant: unknown grant 'Housing Suport Grant'; did you mean Housing Support Grant?" in out
    assert "no council is called 'Cardif'; did you mean Cardiff?" in out
    assert "unknown service 'school servces'; did you mean School Services?" in out


def test_a_missing_file_gets_the_nearest_name_in_its_folder(tmp_path, toy):
    (tmp_path / "floor-3.5.toml").write_text('name = "x"\n', encoding="utf-8")
    (toy / "weights.csv").rename(toy / "weight.csv")
    result = CliRunner().invoke(
        main, ["run", "--scenario", str(tmp_path / "floor35.toml"), "--data", str(toy)], env={"DSG_LANG": ""}
    )
    assert result.exit_code == 2
    assert f"{tmp_path / 'floor35.toml'}: required file is missing; did you mean floor-3.5.toml?" in result.output
    assert f"{toy}/weights.csv: required file is missing; did you mean weight.csv?" in result.output
    result = CliRunner().invoke(main, ["run", "--data", str(toy).upper() + "X"], env={"DSG_LANG": "cy"})
    assert result.exit_code == 2 and "nid cyfeiriadur set ddata" in result.output
    # Only the names before the extension are compared: every .toml is not near every other.
    for name in ("k.toml", "s2.toml", "w.toml"):
        (tmp_path / name).write_text('name = "x"\n', encoding="utf-8")
    nothing_near = CliRunner().invoke(main, ["run", "--scenario", str(tmp_path / "nope.toml")], env={"DSG_LANG": ""})
    assert nothing_near.output.rstrip().endswith("nope.toml: required file is missing")


def test_a_misspelt_key_gets_did_you_mean(tmp_path):
    """In a scenario and in dataset.toml: the nearest allowed key, else the whole list."""
    (tmp_path / "s.toml").write_text('nme = "x"\n[settlement]\nfloor_percnt = 3\nzzzz = 1\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["run", "--scenario", str(tmp_path / "s.toml")], env={"DSG_LANG": ""})
    assert result.exit_code == 2
    assert "s.toml, nme: unknown key; did you mean name?" in result.output
    assert "s.toml, settlement.floor_percnt: unknown key; did you mean floor_percent?" in result.output
    assert "s.toml, settlement.zzzz: unknown key; expected one of aef_total, notional_band_d" in result.output
