"""A dataset's names and their spellings: councils (code, English and Welsh names, short
forms), services (English and Welsh) and indicators, and the problem an unknown one makes.
Matching itself is dsg.formula.names'."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dsg.errors import Problem
from dsg.formula.names import council_aliases, find, suggestions

if TYPE_CHECKING:
    from dsg.formula.dataset import Dataset


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
