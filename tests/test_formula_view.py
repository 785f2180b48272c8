"""dsg formula and dsg scenario new: the formula in view, and a scenario that reproduces it."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from dsg import load_dataset, settle
from dsg.cli import main
from dsg.pipeline import new_scenario, run
from tests.test_ibas import write_long


def invoke(*args):
    return CliRunner().invoke(main, list(args), env={"DSG_LANG": ""}, terminal_width=250)


def test_formula_lists_weights_pounds_labels_and_statuses():
    result = invoke("formula", "--service", "personal social services")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "│" in line]
    cells = [[cell.strip() for cell in line.split("│")[1:-1]] for line in lines]
    # weights.csv: 0.60 / 0.25 / 0.15 of services.csv's £2,361,238,580 (checked by hand:
    # 0.6 x 2,361,238,580 = 1,416,743,148).
    assert cells == [
        ["population", "Population", "Poblogaeth", "0.6", "1,416,743,148", "illustrative", "published"],
        [
            "lsoas_most_deprived_20pct",
            "LSOAs among the 20 % most deprived in Wales",
            "ACEHI ymhlith yr 20 % mwyaf difreintiedig yng Nghymru",
            "0.25",
            "590,309,645",
            "illustrative",
            "derived",
        ],
        [
            "lsoas_most_deprived_50pct",
            "LSOAs among the 50 % most deprived in Wales",
            "ACEHI ymhlith yr 50 % mwyaf difreintiedig yng Nghymru",
            "0.15",
            "354,185,787",
            "illustrative",
            "derived",
        ],
    ]
    assert "Personal Social Services: £2,361,238,580 shared by its indicators" in result.output


def test_formula_in_welsh_and_every_service():
    result = invoke("formula", "--lang", "cy")
    assert result.exit_code == 0
    assert "Gwasanaethau Ysgolion: £2,974,926,840 wedi'i rannu gan ei ddangosyddion" in result.output
    assert "│ Cymru" in result.output and "7,410,845,700" in result.output
    assert "enghreifftiol" in result.output and "illustrative" not in result.output


def test_formula_unknown_service_suggests():
    result = invoke("formula", "--service", "school servics")
    assert result.exit_code == 2
    assert "--service: unknown service 'school servics'; did you mean School Services?" in result.output


@pytest.mark.parametrize("lang", ["en", "cy"])
def test_new_scenario_reproduces_the_default_exactly(tmp_path, lang):
    path = new_scenario(tmp_path / "s.toml", lang=lang)
    text = path.read_text(encoding="utf-8")
    assert ("# Population, illustrative" if lang == "en" else "# Poblogaeth, enghreifftiol") in text
    assert run(None, path).allocation.councils.equals(settle(load_dataset()).councils)


def test_new_scenario_reproduces_an_imported_dataset(tmp_path, toy):
    """Weights of imported lines have 17 significant figures; the scenario keeps them all."""
    rows = [
        (c, line, v)
        for line, amounts in (("L1", "1000 2000 3000"), ("L2", "7 11 13"))
        for c, v in zip("ABC", amounts.split())
    ]
    (tmp_path / "blocks.csv").write_text("line,service\nL1,S\nL2,S\n", encoding="utf-8")
    from dsg.pipeline import import_ibas

    import_ibas(
        write_long(tmp_path / "ibas.csv", rows, ("ons_code", "line", "value")),
        tmp_path / "d",
        like=toy,
        blocks=tmp_path / "blocks.csv",
    )
    result = invoke("scenario", "new", str(tmp_path / "s.toml"), "--data", str(tmp_path / "d"))
    assert result.exit_code == 0, result.output
    assert "L2 = 0.0051" in (tmp_path / "s.toml").read_text(encoding="utf-8")
    dataset = load_dataset(tmp_path / "d")
    assert run(tmp_path / "d", tmp_path / "s.toml").allocation.councils.equals(settle(dataset).councils)


def test_new_scenario_refuses_what_it_cannot_write(tmp_path):
    result = invoke("scenario", "new", str(tmp_path / "s.txt"))
    assert result.exit_code == 2 and "expected a file ending in .toml" in result.output
    assert not (tmp_path / "s.txt").exists()
