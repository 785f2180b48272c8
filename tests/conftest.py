"""Shared fixtures: a three-council toy dataset small enough to work by hand.

The figures of the toy are worked in tests/test_toy_by_hand.py; other tests change one
file of it at a time to provoke one problem.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TOY_FILES = {
    "dataset.toml": """\
name = "toy"
year = "2025-26"
title_en = "Toy settlement"
title_cy = "Setliad tegan"

[settlement]
aef_total = 1000
ndr_pool = 300
ndr_indicator = "pop"
taxbase_indicator = "tb"
floor_percent = 2.0
floor_funding = "external"
""",
    "councils.csv": "ons_code,name_en,name_cy\nA,Aber,Aber Cy\nB,Bryn,Bryn Cy\nC,Caer,Caer Cy\n",
    "indicators.csv": (
        "ons_code,indicator,value\n"
        "A,pop,100\nB,pop,200\nC,pop,700\n"
        "A,dep,1\nB,dep,1\nC,dep,2\n"
        "A,tb,50\nB,tb,100\nC,tb,250\n"
    ),
    "services.csv": "service,total,name_cy\nS1,1000,G1\nS2,400,G2\n",
    "weights.csv": "service,indicator,weight\nS1,pop,1\nS2,pop,0.5\nS2,dep,0.5\n",
    "base.csv": "ons_code,base_aef\nA,100\nB,200\nC,700\n",
    "fixed.csv": "ons_code,amount\nA,10\nC,-10\n",
}


def write_dataset(directory: Path, **changes: str | None) -> Path:
    """Write the toy dataset to ``directory``; ``changes`` replace (or, with None, drop) files.

    Keyword names use ``_`` for ``.``: ``base_csv="..."`` replaces base.csv.
    """
    files = dict(TOY_FILES)
    for key, text in changes.items():
        name = key[::-1].replace("_", ".", 1)[::-1]
        if text is None:
            files.pop(name, None)
        else:
            files[name] = text
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


@pytest.fixture
def toy(tmp_path) -> Path:
    return write_dataset(tmp_path / "toy")


@pytest.fixture
def make_toy(tmp_path):
    counter = iter(range(1000))

    def make(**changes):
        return write_dataset(tmp_path / f"toy{next(counter)}", **changes)

    return make
