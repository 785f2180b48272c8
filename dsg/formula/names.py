"""Names as people type them: a council, a service or an indicator, found forgivingly.

A name matches when it is the same as one of the thing's spellings once case, accents, spaces
and punctuation are set aside ("ynys mon" is "Ynys Môn", "personal social services" is
"Personal Social Services"). Councils also answer to their short forms (dsg/data/aliases.toml:
"RCT", "Vale", "NPT"). A name that matches nothing gets the nearest spellings as suggestions,
from rapidfuzz.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from dsg.errors import Problem

if TYPE_CHECKING:
    from dsg.formula.dataset import Dataset

# A suggestion must score at least this (0-100, rapidfuzz's WRatio) to be offered.
SUGGESTION_CUTOFF = 70
# Suggestions are those within this many points of the best, at most SUGGESTIONS of them.
SUGGESTION_SPREAD = 5
SUGGESTIONS = 3


def plain(name: str) -> str:
    """``name`` without case, accents, punctuation or repeated spaces: the form names are
    compared in."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^0-9a-z]+", " ", letters).strip()


@cache
def council_aliases() -> dict[str, tuple[str, ...]]:
    """Short forms of council names, by ONS code."""
    text = resources.files("dsg.data").joinpath("aliases.toml").read_text(encoding="utf-8")
    return {code: tuple(names) for code, names in tomllib.loads(text).items()}


def find(query: str, spellings: dict[str, tuple[str, ...]]) -> str | None:
    """The key whose spellings include ``query`` (compared plainly), or None. Earlier keys win
    a tie, so callers list codes before names."""
    wanted = plain(query)
    if not wanted:
        return None
    for key, forms in spellings.items():
        if any(plain(form) == wanted for form in forms):
            return key
    return None


def suggestions(query: str, spellings: dict[str, tuple[str, ...]], shown=lambda key: key) -> list[str]:
    """The keys whose spellings come nearest ``query``, best first, each as ``shown(key)``."""
    from rapidfuzz import fuzz, process

    forms = {form: key for key, names in spellings.items() for form in names}
    matches = process.extract(
        query, list(forms), scorer=fuzz.WRatio, processor=plain, limit=None, score_cutoff=SUGGESTION_CUTOFF
    )
    found: list[str] = []
    for form, score, _ in matches:
        # Only those about as near as the nearest: "School Services", not every "... Services".
        label = shown(forms[form])
        if score >= matches[0][1] - SUGGESTION_SPREAD and label not in found:
            found.append(label)
    return found[:SUGGESTIONS]


def council_spellings(dataset: Dataset) -> dict[str, tuple[str, ...]]:
    """Each council's code, names and short forms (dsg/data/aliases.toml), by code."""
    aliases = council_aliases()
    return {
        code: (code, name_en, name_cy, *aliases.get(code, ()))
        for code, name_en, name_cy in dataset.councils.select("ons_code", "name_en", "name_cy").iter_rows()
    }


def council_code(dataset: Dataset, query: str) -> str | None:
    """The ONS code of the council ``query`` names (code, English or Welsh name, short form)."""
    codes = dataset.council_codes
    # An ONS code first, so that a council named like another's code cannot take its place.
    return find(query, {code: (code,) for code in codes}) or find(query, council_spellings(dataset))


def unknown_council(dataset: Dataset, query: str, file: str, row: int | None = None, key: str | None = None) -> Problem:
    """A name that names no council, with the nearest names, or all of them when none is near."""
    names = dict(dataset.councils.select("ons_code", "name_en").iter_rows())
    near = suggestions(query, council_spellings(dataset), lambda code: names[code])
    if near:
        return Problem(file, "unknown_council_suggest", row, key, {"value": query, "suggestions": " / ".join(near)})
    return Problem(file, "unknown_council_name", row, key, {"value": query, "allowed": ", ".join(names.values())})


def service_spellings(dataset: Dataset) -> dict[str, tuple[str, ...]]:
    """Each service's English and Welsh names."""
    return {
        service: (service, name_cy) for service, name_cy in dataset.services.select("service", "name_cy").iter_rows()
    }


def indicator_spellings(dataset: Dataset) -> dict[str, tuple[str, ...]]:
    return {indicator: (indicator,) for indicator in dict.fromkeys(dataset.indicators["indicator"].to_list())}


def unknown(file: str, kind: str, name: str, spellings: dict[str, tuple[str, ...]], key: str | None = None) -> Problem:
    """An unknown service or indicator (``kind``), with "did you mean" when a name is near."""
    near = suggestions(name, spellings)
    if near:
        return Problem(
            file, f"unknown_{kind}_suggest", key=key, params={"value": name, "suggestions": " / ".join(near)}
        )
    return Problem(file, f"unknown_{kind}", key=key, params={"value": name})
