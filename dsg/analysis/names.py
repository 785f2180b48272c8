"""Names a command's options give (a service, an indicator, a council), checked on the dataset.

Kept apart from dsg.analysis.options, which loads no engine library even for type checking:
these checks run only once the dataset has loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dsg.errors import Problem

if TYPE_CHECKING:
    from dsg.formula.dataset import Dataset


def council_index(dataset: Dataset, query: str) -> int | None:
    """Index of the council named by ONS code or English or Welsh name, any case (None if none is)."""
    wanted = query.strip().casefold()
    records = list(dataset.councils.iter_rows(named=True))
    # An ONS code first, so that a council named like another's code cannot take its place.
    for columns in (("ons_code",), ("name_en", "name_cy")):
        for index, record in enumerate(records):
            if wanted in (record[c].casefold() for c in columns):
                return index
    return None


def council_problems(dataset: Dataset, query: str, where: str = "COUNCIL") -> list[Problem]:
    """A council name that names no council, as a problem (none if it does)."""
    if council_index(dataset, query) is not None:
        return []
    names = ", ".join(dataset.councils["name_en"].to_list())
    return [Problem(where, "unknown_council_name", params={"value": query, "allowed": names})]


def name_problems(dataset: Dataset, service: str, indicator: str, where: tuple[str, str]) -> list[Problem]:
    """A service and an indicator that the dataset does not have."""
    problems = []
    if service not in dataset.services["service"].to_list():
        problems.append(Problem(where[0], "unknown_service", params={"value": service}))
    if indicator not in set(dataset.indicators["indicator"].to_list()):
        problems.append(Problem(where[1], "unknown_indicator", params={"value": indicator}))
    return problems


def sweep_problems(dataset: Dataset, service: str, indicator: str) -> list[Problem]:
    """The names a sweep uses, checked on the dataset."""
    return name_problems(dataset, service, indicator, ("--service", "--indicator"))


def goalseek_problems(dataset: Dataset, parameter: str, target: str, council: str | None) -> list[Problem]:
    """The names goal seek uses (a service, an indicator, a council), checked on the dataset."""
    kind, _, rest = parameter.partition(":")
    problems = []
    if kind == "service" and rest and rest not in dataset.services["service"].to_list():
        problems.append(Problem("--vary", "unknown_service", params={"value": rest}))
    if kind == "weight" and rest.count(":") == 1:
        service, indicator = rest.split(":")
        problems += name_problems(dataset, service, indicator, ("--vary", "--vary"))
    if target == "council-aef" and council:
        problems += council_problems(dataset, council, "--council")
    return problems
