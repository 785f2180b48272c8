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

from dsg.errors import Problem

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


def unknown_key(file: str, written: str, allowed, where: str | None = None) -> Problem:
    """A key that ``file`` does not allow (at ``where``, by default the key itself), with the
    nearest allowed keys, or the whole list when none is near."""
    allowed = list(allowed)
    near = suggestions(written, {key: (key,) for key in allowed})
    if near:
        return Problem(file, "unknown_key_suggest", key=where or written, params={"suggestions": " / ".join(near)})
    return Problem(file, "unknown_key", key=where or written, params={"allowed": ", ".join(allowed)})
