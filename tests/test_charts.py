"""Charts for papers: PNG, SVG or PDF by extension; a caption with source and caveats; one
colour per cause in every chart; the sweep's highlighted councils and current weight."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from dsg.cli import main
from dsg.output.charts import CAUSE_COLOURS

EXAMPLES = Path(__file__).parent.parent / "examples"


def invoke(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], env={"DSG_LANG": ""})
    assert result.exit_code == 0, result.output
    return result


def test_the_extension_chooses_the_format(tmp_path):
    for name, magic in (("c.png", b"\x89PNG"), ("c.svg", b"<?xml"), ("c.pdf", b"%PDF")):
        invoke("compare", EXAMPLES / "floor-3.5.toml", "--chart", tmp_path / name)
        assert (tmp_path / name).read_bytes().startswith(magic), name


def test_a_chart_says_its_source_scenario_and_caveats(tmp_path):
    invoke("compare", EXAMPLES / "floor-3.5.toml", "--chart", tmp_path / "c.svg")
    text = (tmp_path / "c.svg").read_text(encoding="utf-8")
    assert "Source: dsg" in text and "dataset wales-2025-26" in text
    assert "A 3.5 % floor against" in text  # the caption wraps after "against"
    assert "† illustrative formulas: School Services" in text
    # The legend names both colours drawn: councils lifted to the floor and councils not.
    assert "On the floor under the scenario" in text


def fills(path: Path) -> set[str]:
    return set(re.findall(r"fill: ?(#[0-9a-f]{6})", path.read_text(encoding="utf-8")))


def test_each_cause_keeps_its_colour_from_chart_to_chart(tmp_path):
    """Two decompositions with different causes: "Formula weights" is the same colour in both."""
    invoke("compare", EXAMPLES / "deprivation.toml", "--decompose", "--chart", tmp_path / "a.svg")
    invoke("compare", EXAMPLES / "final-floor.toml", "--decompose", "--chart", tmp_path / "b.svg")
    a, b = fills(tmp_path / "a.svg"), fills(tmp_path / "b.svg")
    weights, floor = CAUSE_COLOURS["weights"].lower(), CAUSE_COLOURS["floor_cap"].lower()
    assert weights in a and floor in a and floor in b and weights not in b
    assert len(set(CAUSE_COLOURS.values())) == len(CAUSE_COLOURS)


def test_the_sweep_highlights_councils_and_marks_the_current_weight(tmp_path):
    invoke(
        "sweep", "--service", "Personal Social Services", "--indicator", "lsoas_most_deprived_20pct",
        "--from", "0", "--to", "0.6", "--steps", "7", "--chart", tmp_path / "s.svg",
        "--highlight", "RCT", "--highlight", "caerdydd",
    )  # fmt: skip
    text = (tmp_path / "s.svg").read_text(encoding="utf-8")
    for label in ("Rhondda Cynon Taf", "Cardiff", "Other councils", "Current weight 0.25", "Floor 2.8 %"):
        assert label in text, label
    assert "Merthyr Tydfil" not in text  # greyed, not named
    refused = CliRunner().invoke(main, ["sweep", "--service", "Personal Social Services", "--indicator",
                                        "population", "--from", "0", "--to", "1", "--highlight", "Cardif"])  # fmt: skip
    assert (
        refused.exit_code == 2 and "--highlight: no council is called 'Cardif'; did you mean Cardiff?" in refused.output
    )


def test_the_same_inputs_draw_the_same_svg(tmp_path):
    for name in ("a.svg", "b.svg"):
        invoke("compare", EXAMPLES / "floor-3.5.toml", "--chart", tmp_path / name)
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()
