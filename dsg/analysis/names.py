"""Names a command's options give (a service, an indicator, a council), checked on the dataset.

Kept apart from dsg.analysis.options, which loads no engine library even for type checking:
these checks run only once the dataset has loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dsg.errors import Problem
from dsg.formula.names import find
from dsg.formula.spellings import council_code, indicator_spellings, service_spellings, unknown, unknown_council

if TYPE_CHECKING:
    from dsg.formula.dataset import Dataset


def council_index(dataset: Dataset, query: str) -> int | None:
    """Index of the council named by ONS code, English or Welsh name or short form, compared
    without case, accents or punctuation (None if none is)."""
    found = council_code(dataset, query)
    return dataset.council_codes.index(found) if found is not None else None


def council_problems(dataset: Dataset, query: str, where: str = "COUNCIL") -> list[Problem]:
    """A council name that names no council, as a problem with the nearest names (none if it
    names one)."""
    return [] if council_code(dataset, query) is not None else [unknown_council(dataset, query, where)]


def service_named(dataset: Dataset, query: str) -> str | None:
    """The service ``query`` names, in English or Welsh, without regard to case or accents."""
    return find(query, service_spellings(dataset))


def indicator_named(dataset: Dataset, query: str) -> str | None:
    """The indicator ``query`` names, without regard to case, spaces or punctuation."""
    return find(query, indicator_spellings(dataset))


def name_problems(dataset: Dataset, service: str, indicator: str, where: tuple[str, str]) -> list[Problem]:
    """A service and an indicator that the dataset does not have, with the nearest names."""
    problems = []
    if service_named(dataset, service) is None:
        problems.append(unknown(where[0], "service", service, service_spellings(dataset)))
    if indicator_named(dataset, indicator) is None:
        problems.append(unknown(where[1], "indicator", indicator, indicator_spellings(dataset)))
    return problems


def sweep_problems(dataset: Dataset, service: str, indicator: str) -> list[Problem]:
    """The names a sweep uses, checked on the dataset."""
    return name_problems(dataset, service, indicator, ("--service", "--indicator"))


def goalseek_problems(dataset: Dataset, parameter: str, target: str, council: str | None) -> list[Problem]:
    """The names goal seek uses (a service, an indicator, a council), checked on the dataset."""
    kind, _, rest = parameter.partition(":")
    problems = []
    if kind == "service" and rest and service_named(dataset, rest) is None:
        problems.append(unknown("--vary", "service", rest, service_spellings(dataset)))
    if kind == "weight" and rest.count(":") == 1:
        service, indicator = rest.split(":")
        problems += name_problems(dataset, service, indicator, ("--vary", "--vary"))
    if target == "council-aef" and council:
        problems += council_problems(dataset, council, "--council")
    return problems
