"""Scenarios (SPEC §5): a TOML file that changes a dataset without copying it.

:func:`load_scenario` reads a file and checks its shape (kinds of values, known keys), every
part of it: ``[settlement]``, ``[services]``, ``[weights]``, the grant moves
(``[[dehypothecate]]``, ``[[consolidate]]``) and later ``[[years]]``. Whether what it names
exists in a dataset is checked when it is applied (dsg.formula.apply for the formula,
dsg.grants.path for grant moves and years, where earlier moves are known).

``[[dehypothecate]]`` and ``[[consolidate]]`` at the top act in the scenario's own year;
``[[years]]`` adds later years, each with its own growth, parameters, updates and moves.

No polars here: a scenario that cannot be read is refused before the engine loads.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

from dsg.errors import InputError, Problem, Problems
from dsg.formula.inputs import TOML_LIMIT, parse_toml, read_input
from dsg.formula.names import unknown_key
from dsg.formula.params import REMOVABLE, WEIGHT_TOLERANCE, check_number, finite_sum, is_remove, toml_literal

KEY_CURRENT = "current"

DEHYPOTHECATE_KEYS = ("grant", "into_service", "transition_years", "weights")
CONSOLIDATE_KEYS = ("grants", "into", "cut_percent", "key", "protection_percent", "transition_years")
# The settlement parameters a later year may change.
YEAR_SETTLEMENT_KEYS = ("floor_percent", "cap_percent", "floor_funding", "ndr_pool")
YEAR_KEYS = (
    "year",
    "aef_growth_percent",
    "ssa_growth_percent",
    *YEAR_SETTLEMENT_KEYS,
    "services",
    "indicators",
    "dehypothecate",
    "consolidate",
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
    # Parameters changed from this year on (YEAR_SETTLEMENT_KEYS); None removes a floor or cap.
    settlement: dict = field(default_factory=dict)
    services: dict[str, float] = field(default_factory=dict)
    # None: a value that is not a number, reported with the scenario's problems.
    indicators: dict[str, dict[str, float | None]] = field(default_factory=dict)
    dehypothecate: tuple[Dehypothecation, ...] = ()
    consolidate: tuple[Consolidation, ...] = ()
    where: str = "years"
    # Services named with a value that was refused: still checked against the dataset.
    refused_services: tuple[str, ...] = ()


def unknown_keys(table: dict, allowed: tuple[str, ...], label: str, where: str, problems: list[Problem]) -> None:
    for key in table:
        if key not in allowed:
            problems.append(unknown_key(label, key, allowed, f"{where}.{key}"))


def text(table: dict, key: str, label: str, where: str, problems: list[Problem]) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        problems.append(Problem(label, "text_found", key=f"{where}.{key}", params={"found": toml_literal(value)}))
        return None
    if not isinstance(value, str) or not value.strip():
        problems.append(Problem(label, "missing_key" if key not in table else "expected_text", key=f"{where}.{key}"))
        return None
    return value.strip()


def whole_years(table: dict, label: str, where: str, problems: list[Problem]) -> int:
    years = check_number(
        table.get("transition_years", 1), problems, label, key=f"{where}.transition_years", kind="years"
    )
    return 1 if years is None else int(years)


def weight_table(value, label: str, where: str, problems: list[Problem]) -> dict[str, float] | None:
    """An ``indicator = weight`` table: weights 0 or more that sum to 1."""
    if not isinstance(value, dict) or not value:
        problems.append(Problem(label, "weights_not_table", key=where))
        return None
    checked = {k: check_number(w, problems, label, key=f"{where}.{k}", kind="weight") for k, w in value.items()}
    weights = {k: w for k, w in checked.items() if w is not None}
    if len(weights) != len(checked):
        return None
    total = finite_sum(weights.values())
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
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
        cut = check_number(table.get("cut_percent", 0.0), problems, label, key=f"{here}.cut_percent", kind="percent")
        if cut is not None and not 0 <= cut < 100:
            problems.append(Problem(label, "cut_out_of_range", key=f"{here}.cut_percent", params={"value": cut}))
        key = table.get("key", KEY_CURRENT)
        if isinstance(key, str):
            if key != KEY_CURRENT:
                problems.append(
                    Problem(
                        label,
                        "bad_choice",
                        key=f"{here}.key",
                        params={"value": key, "allowed": f'"{KEY_CURRENT}" or a table of indicator = weight'},
                    )
                )
                key = None
        else:
            key = weight_table(key, label, f"{here}.key", problems)
        protection = None
        if "protection_percent" in table:
            protection = check_number(
                table["protection_percent"], problems, label, key=f"{here}.protection_percent", kind="percent"
            )
            if protection is not None and protection < -100:
                problems.append(
                    Problem(
                        label, "floor_below_minus_100", key=f"{here}.protection_percent", params={"value": protection}
                    )
                )
        years = whole_years(table, label, here, problems)
        if grants and into and cut is not None and key is not None:
            merges.append(Consolidation(tuple(g.strip() for g in grants), into, cut, key, protection, years, here))
    return tuple(merges)


def table_or_empty(table: dict, key: str, label: str, where: str, problems: list[Problem]) -> dict:
    value = table.get(key, {})
    if not isinstance(value, dict):
        problems.append(Problem(label, "table_found", key=f"{where}.{key}", params={"found": toml_literal(value)}))
        return {}
    return value


# A path longer than this is no settlement plan; each year is a settlement and a roll-forward.
MAX_YEARS = 50


def parse_years(value, label: str, problems: list[Problem]) -> tuple[Year, ...]:
    years = []
    tables = table_list(value, label, "years", problems)
    if len(tables) > MAX_YEARS:
        problems.append(Problem(label, "too_many_years", key="years", params={"value": len(tables), "most": MAX_YEARS}))
        tables = []
    for number, table in enumerate(tables, start=1):
        here = f"years[{number}]"
        unknown_keys(table, YEAR_KEYS, label, here, problems)
        name = text(table, "year", label, here, problems)
        growth = check_number(
            table.get("aef_growth_percent", 0.0), problems, label, key=f"{here}.aef_growth_percent", kind="percent"
        )
        ssa_growth = None
        if "ssa_growth_percent" in table:
            ssa_growth = check_number(
                table["ssa_growth_percent"], problems, label, key=f"{here}.ssa_growth_percent", kind="percent"
            )
        settlement = settlement_changes(
            {k: table[k] for k in YEAR_SETTLEMENT_KEYS if k in table}, label, here, problems
        )
        services, refused = {}, []
        for service, total in table_or_empty(table, "services", label, here, problems).items():
            checked = check_number(total, problems, label, key=f'{here}.services."{service}"', kind="money")
            if checked is not None:
                services[service] = checked
            else:
                refused.append(service)
        indicators: dict[str, dict[str, float | None]] = {}
        for indicator, values in table_or_empty(table, "indicators", label, here, problems).items():
            if not isinstance(values, dict):
                problems.append(
                    Problem(
                        label,
                        "table_found",
                        key=f"{here}.indicators.{indicator}",
                        params={"found": toml_literal(values)},
                    )
                )
                continue
            indicators[indicator] = {
                code: check_number(v, problems, label, key=f"{here}.indicators.{indicator}.{code}", kind="indicator")
                for code, v in values.items()
            }
        moves = parse_dehypothecations(table.get("dehypothecate", []), label, f"{here}.dehypothecate", problems)
        merges = parse_consolidations(table.get("consolidate", []), label, f"{here}.consolidate", problems)
        if name is not None and growth is not None:
            years.append(
                Year(name, growth, ssa_growth, settlement, services, indicators, moves, merges, here, tuple(refused))
            )
    return tuple(years)


def settlement_changes(table: dict, label: str, where: str, problems: list[Problem]) -> dict:
    """A later year's parameter changes, each a number (or None: ``"none"`` removes a floor or
    cap); the rules that tie them to the rest of the settlement apply when the year runs."""
    changes: dict = {}
    for key, value in table.items():
        if key in REMOVABLE and is_remove(value):
            changes[key] = None
        elif key == "floor_funding":
            if isinstance(value, str):
                changes[key] = value
            else:
                problems.append(
                    Problem(label, "text_found", key=f"{where}.{key}", params={"found": toml_literal(value)})
                )
        else:
            kind = "money" if key == "ndr_pool" else "percent"
            number = check_number(value, problems, label, key=f"{where}.{key}", kind=kind)
            if number is not None:
                changes[key] = number
    return changes


SCENARIO_KEYS = ("name", "description", "settlement", "services", "weights", "dehypothecate", "consolidate", "years")


@dataclass(frozen=True)
class Scenario:
    """A parsed scenario file; apply it with :func:`apply_scenario`."""

    name: str = ""
    description: str = ""
    settlement: dict = field(default_factory=dict)
    services: dict[str, float] = field(default_factory=dict)
    weights: dict[str, dict[str, float]] = field(default_factory=dict)
    dehypothecate: tuple = ()
    consolidate: tuple = ()
    years: tuple = ()
    source: str = "scenario"
    sha256: str = ""
    # Problems with the file's own shape; reported by apply_scenario together with the
    # ways it does not fit the dataset, so that a user sees them all at once.
    problems: tuple[Problem, ...] = ()
    # Names given with a value that was refused, still checked against the dataset so that
    # no problem waits for the next run: (key, service) and (key, indicator) pairs.
    refused_services: tuple[tuple[str, str], ...] = ()
    refused_indicators: tuple[tuple[str, str], ...] = ()

    @property
    def has_path(self) -> bool:
        """Grant moves or later years: settled year by year by dsg.grants.path."""
        return bool(self.dehypothecate or self.consolidate or self.years)


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario TOML file.

    Raises :class:`InputError` only when the file cannot be read as TOML (missing, not a
    regular file, over 1 MiB, unreadable, not UTF-8, not TOML, nested too deep: see
    dsg.formula.inputs); problems inside it are kept on the scenario and raised by
    :func:`apply_scenario` with the rest.
    """
    label = str(path)
    problems: list[Problem] = Problems()
    data = read_input(Path(path), label, problems, limit=TOML_LIMIT, kind="TOML")
    table = parse_toml(data, label, problems) if data is not None else None
    if data is None or table is None:
        raise InputError(problems)
    return parse_scenario(table, label, hashlib.sha256(data).hexdigest())


def parse_scenario(table: dict, label: str = "scenario", sha256: str = "") -> Scenario:
    """Check the shape of a scenario table (types, numbers, known keys), keeping the problems."""
    problems = Problems()
    for key in table:
        if key not in SCENARIO_KEYS:
            problems.append(unknown_key(label, key, SCENARIO_KEYS))
    for key in ("name", "description"):
        if key in table and not isinstance(table[key], str):
            problems.append(Problem(label, "text_found", key=key, params={"found": toml_literal(table[key])}))

    settlement = table.get("settlement", {})
    if not isinstance(settlement, dict):
        problems.append(Problem(label, "table_found", key="settlement", params={"found": toml_literal(settlement)}))
        settlement = {}
    settlement = {key: None if is_remove(value) and key in REMOVABLE else value for key, value in settlement.items()}

    services: dict[str, float] = {}
    raw_services = table.get("services", {})
    if not isinstance(raw_services, dict):
        problems.append(Problem(label, "table_found", key="services", params={"found": toml_literal(raw_services)}))
        raw_services = {}
    refused_services: list[tuple[str, str]] = []
    refused_indicators: list[tuple[str, str]] = []
    for service, total in raw_services.items():
        value = check_number(total, problems, label, key=f'services."{service}"', kind="money")
        if value is not None:
            services[service] = value
        else:
            refused_services.append((f'services."{service}"', service))

    weights: dict[str, dict[str, float]] = {}
    raw_weights = table.get("weights", {})
    if not isinstance(raw_weights, dict):
        problems.append(Problem(label, "table_found", key="weights", params={"found": toml_literal(raw_weights)}))
        raw_weights = {}
    for service, formula in raw_weights.items():
        if not isinstance(formula, dict) or not formula:
            problems.append(Problem(label, "weights_not_table", key=f'weights."{service}"'))
            continue
        checked = {
            indicator: check_number(weight, problems, label, key=f'weights."{service}".{indicator}', kind="weight")
            for indicator, weight in formula.items()
        }
        numbers = {indicator: weight for indicator, weight in checked.items() if weight is not None}
        if len(numbers) == len(checked):
            weights[service] = numbers
        else:
            refused_services.append((f'weights."{service}"', service))
            refused_indicators += [(f'weights."{service}".{indicator}', indicator) for indicator in formula]
    moves = parse_dehypothecations(table.get("dehypothecate", []), label, "dehypothecate", problems)
    merges = parse_consolidations(table.get("consolidate", []), label, "consolidate", problems)
    years = parse_years(table.get("years", []), label, problems)
    return Scenario(
        name=table.get("name", ""),
        description=table.get("description", ""),
        settlement=settlement,
        services=services,
        weights=weights,
        dehypothecate=moves,
        consolidate=merges,
        years=years,
        refused_services=tuple(refused_services),
        refused_indicators=tuple(refused_indicators),
        source=label,
        sha256=sha256,
        problems=tuple(problems.complete()),
    )


def all_moves(scenario: Scenario):
    """Every dehypothecation of the scenario, in its own year and in later years."""
    yield from scenario.dehypothecate
    for year in scenario.years:
        yield from year.dehypothecate


def with_block_weights(scenario: Scenario, services) -> Scenario:
    """The scenario with ``[weights."X"]`` attached to each move into a new block X (not one of
    ``services``) that gives no weights of its own."""
    known = set(services)

    def attach(moves):
        return tuple(
            replace(move, weights=scenario.weights[move.into_service], weights_from_scenario=True)
            if move.weights is None and move.into_service in scenario.weights and move.into_service not in known
            else move
            for move in moves
        )

    years = tuple(replace(year, dehypothecate=attach(year.dehypothecate)) for year in scenario.years)
    return replace(scenario, dehypothecate=attach(scenario.dehypothecate), years=years)
