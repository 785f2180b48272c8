"""The grant parts of a scenario (SPEC §5 and the documented options), parsed and checked for shape.

``[[dehypothecate]]`` and ``[[consolidate]]`` at the top of a scenario act in the scenario's
own year; ``[[years]]`` adds later years, each with its own growth, floor, updates and grant
moves. Whether a grant, a service or an indicator exists is checked when the moves are
applied to a dataset (dsg.grants.paths), where the grants of earlier moves are known.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dsg.errors import Problem
from dsg.formula.dataset import check_number

KEY_CURRENT = "current"

DEHYPOTHECATE_KEYS = ("grant", "into_service", "transition_years", "weights")
CONSOLIDATE_KEYS = ("grants", "into", "cut_percent", "key", "protection_percent", "transition_years")
YEAR_KEYS = (
    "year", "aef_growth_percent", "ssa_growth_percent", "floor_percent", "services", "indicators",
    "dehypothecate", "consolidate",
)


@dataclass(frozen=True)
class Dehypothecation:
    """Move a grant into the settlement: ``into_service`` grows by the grant total.

    ``transition_years = N`` moves 1/N of the grant (as allocated when the move starts) in
    each of N years; ``weights`` gives the formula of ``into_service`` when it is a new block.
    """

    grant: str
    into_service: str
    transition_years: int = 1
    weights: dict[str, float] | None = None
    key: str = "dehypothecate"  # where it was written, for messages
    weights_from_scenario: bool = False  # taken from the scenario's [weights] table


@dataclass(frozen=True)
class Consolidation:
    """Merge grants into one: total = (1 - cut/100) x old total, shared by ``key``.

    ``protection_percent = p`` keeps every council at or above (1 + p/100) x its allocation of
    the year before, paid for inside the total; ``transition_years = N`` moves from the old
    allocation to the keyed one in N equal steps.
    """

    grants: tuple[str, ...]
    into: str
    cut_percent: float = 0.0
    key: str | dict[str, float] = KEY_CURRENT
    protection_percent: float | None = None
    transition_years: int = 1
    where: str = "consolidate"


@dataclass(frozen=True)
class Year:
    """One later year of a multi-year path (a ``[[years]]`` entry)."""

    year: str
    aef_growth_percent: float = 0.0
    ssa_growth_percent: float | None = None
    floor_percent: float | str | None = None
    services: dict[str, float] = field(default_factory=dict)
    indicators: dict[str, dict[str, float]] = field(default_factory=dict)
    dehypothecate: tuple[Dehypothecation, ...] = ()
    consolidate: tuple[Consolidation, ...] = ()
    where: str = "years"


def unknown_keys(table: dict, allowed: tuple[str, ...], label: str, where: str, problems: list[Problem]) -> None:
    for key in table:
        if key not in allowed:
            problems.append(Problem(label, "unknown_key", key=f"{where}.{key}", params={"allowed": ", ".join(allowed)}))


def text(table: dict, key: str, label: str, where: str, problems: list[Problem]) -> str | None:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(Problem(label, "missing_key" if key not in table else "expected_text", key=f"{where}.{key}"))
        return None
    return value.strip()


def whole_years(table: dict, label: str, where: str, problems: list[Problem]) -> int:
    value = table.get("transition_years", 1)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        problems.append(Problem(label, "not_whole_years", key=f"{where}.transition_years", params={"value": value}))
        return 1
    return value


def weight_table(value, label: str, where: str, problems: list[Problem]) -> dict[str, float] | None:
    """An ``indicator = weight`` table: weights 0 or more that sum to 1."""
    if not isinstance(value, dict) or not value:
        problems.append(Problem(label, "weights_not_table", key=where))
        return None
    weights = {k: check_number(w, problems, label, key=f"{where}.{k}") for k, w in value.items()}
    if None in weights.values():
        return None
    total = sum(weights.values())
    if abs(total - 1.0) > 1e-9:
        problems.append(Problem(label, "weights_not_one", key=where, params={"total": f"{total:.12g}"}))
        return None
    return weights


def table_list(value, label: str, where: str, problems: list[Problem]) -> list[dict]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        problems.append(Problem(label, "expected_table_list", key=where))
        return []
    return value


def parse_dehypothecations(value, label: str, where: str, problems: list[Problem]) -> tuple[Dehypothecation, ...]:
    moves = []
    for number, table in enumerate(table_list(value, label, where, problems), start=1):
        here = f"{where}[{number}]"
        unknown_keys(table, DEHYPOTHECATE_KEYS, label, here, problems)
        grant = text(table, "grant", label, here, problems)
        service = text(table, "into_service", label, here, problems)
        years = whole_years(table, label, here, problems)
        weights = weight_table(table["weights"], label, f"{here}.weights", problems) if "weights" in table else None
        if grant and service and (weights is not None or "weights" not in table):
            moves.append(Dehypothecation(grant, service, years, weights, here))
    return tuple(moves)


def parse_consolidations(value, label: str, where: str, problems: list[Problem]) -> tuple[Consolidation, ...]:
    merges = []
    for number, table in enumerate(table_list(value, label, where, problems), start=1):
        here = f"{where}[{number}]"
        unknown_keys(table, CONSOLIDATE_KEYS, label, here, problems)
        grants = table.get("grants")
        if not isinstance(grants, list) or not grants or not all(isinstance(g, str) and g.strip() for g in grants):
            problems.append(Problem(label, "expected_grant_list", key=f"{here}.grants"))
            grants = None
        else:
            grants = [g.strip() for g in grants]
            if len(set(grants)) != len(grants):
                problems.append(Problem(label, "grant_listed_twice", key=f"{here}.grants"))
                grants = None
        into = text(table, "into", label, here, problems)
        cut = check_number(table.get("cut_percent", 0.0), problems, label, key=f"{here}.cut_percent", minimum="any")
        if cut is not None and not 0 <= cut < 100:
            problems.append(Problem(label, "cut_out_of_range", key=f"{here}.cut_percent", params={"value": cut}))
        key = table.get("key", KEY_CURRENT)
        if isinstance(key, str):
            if key != KEY_CURRENT:
                problems.append(Problem(label, "bad_choice", key=f"{here}.key", params={"value": key, "allowed": f'"{KEY_CURRENT}" or a table of indicator = weight'}))
                key = None
        else:
            key = weight_table(key, label, f"{here}.key", problems)
        protection = None
        if "protection_percent" in table:
            protection = check_number(table["protection_percent"], problems, label, key=f"{here}.protection_percent", minimum="any")
            if protection is not None and protection < -100:
                problems.append(Problem(label, "floor_below_minus_100", key=f"{here}.protection_percent", params={"value": protection}))
        years = whole_years(table, label, here, problems)
        if grants and into and cut is not None and key is not None:
            merges.append(Consolidation(tuple(g.strip() for g in grants), into, cut, key, protection, years, here))
    return tuple(merges)


def table_or_empty(table: dict, key: str, label: str, where: str, problems: list[Problem]) -> dict:
    value = table.get(key, {})
    if not isinstance(value, dict):
        problems.append(Problem(label, "expected_table", key=f"{where}.{key}"))
        return {}
    return value


def parse_years(value, label: str, problems: list[Problem]) -> tuple[Year, ...]:
    years = []
    for number, table in enumerate(table_list(value, label, "years", problems), start=1):
        here = f"years[{number}]"
        unknown_keys(table, YEAR_KEYS, label, here, problems)
        name = text(table, "year", label, here, problems)
        growth = check_number(table.get("aef_growth_percent", 0.0), problems, label, key=f"{here}.aef_growth_percent", minimum="any")
        ssa_growth = None
        if "ssa_growth_percent" in table:
            ssa_growth = check_number(table["ssa_growth_percent"], problems, label, key=f"{here}.ssa_growth_percent", minimum="any")
        floor = table.get("floor_percent")
        if floor is not None and not (isinstance(floor, str) and floor.strip().lower() == "none"):
            floor = check_number(floor, problems, label, key=f"{here}.floor_percent", minimum="any")
        services = {}
        for service, total in table_or_empty(table, "services", label, here, problems).items():
            checked = check_number(total, problems, label, key=f'{here}.services."{service}"')
            if checked is not None:
                services[service] = checked
        indicators: dict[str, dict[str, float]] = {}
        for indicator, values in table_or_empty(table, "indicators", label, here, problems).items():
            if not isinstance(values, dict):
                problems.append(Problem(label, "expected_table", key=f"{here}.indicators.{indicator}"))
                continue
            indicators[indicator] = {
                code: check_number(v, problems, label, key=f"{here}.indicators.{indicator}.{code}") for code, v in values.items()
            }
        moves = parse_dehypothecations(table.get("dehypothecate", []), label, f"{here}.dehypothecate", problems)
        merges = parse_consolidations(table.get("consolidate", []), label, f"{here}.consolidate", problems)
        if name is not None and growth is not None:
            years.append(Year(name, growth, ssa_growth, floor, services, indicators, moves, merges, here))
    return tuple(years)
