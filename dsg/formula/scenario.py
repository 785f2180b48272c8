"""Scenarios (SPEC §5): a TOML file that changes a dataset without copying it.

:func:`load_scenario` reads and checks the file on its own; :func:`apply_scenario` checks
it against a dataset and returns the changed dataset. Both report every problem at once.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from dsg.errors import InputError, Problem, raise_if
from dsg.formula.dataset import (
    Dataset,
    check_number,
    indicator_problems,
    parse_settlement,
    weight_sum_problems,
)
from dsg.grants.paths import first_year, grant_problems
from dsg.grants.spec import parse_consolidations, parse_dehypothecations, parse_years

SCENARIO_KEYS = ("name", "description", "settlement", "services", "weights", "dehypothecate", "consolidate", "years")
# A scenario may remove the dataset's floor or cap by giving this instead of a number.
REMOVE = "none"
REMOVABLE = ("floor_percent", "cap_percent")


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


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario TOML file.

    Raises :class:`InputError` only when the file cannot be read as TOML; problems inside
    it are kept on the scenario and raised by :func:`apply_scenario` with the rest.
    """
    label = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError([Problem(label, "missing_file")]) from None
    except OSError as exc:
        raise InputError([Problem(label, "unreadable_file", params={"reason": exc.strerror or str(exc)})]) from None
    try:
        table = tomllib.loads(data.decode("utf-8").removeprefix("\ufeff"))  # a BOM, as Notepad may add
    except UnicodeDecodeError:
        raise InputError([Problem(label, "not_utf8_text")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError([Problem(label, "bad_toml", params={"reason": str(exc)})]) from None
    return parse_scenario(table, label, hashlib.sha256(data).hexdigest())


def parse_scenario(table: dict, label: str = "scenario", sha256: str = "") -> Scenario:
    """Check the shape of a scenario table (types, numbers, known keys), keeping the problems."""
    problems: list[Problem] = []
    for key in table:
        if key not in SCENARIO_KEYS:
            problems.append(Problem(label, "unknown_key", key=key, params={"allowed": ", ".join(SCENARIO_KEYS)}))
    for key in ("name", "description"):
        if key in table and not isinstance(table[key], str):
            problems.append(Problem(label, "expected_text", key=key))

    settlement = table.get("settlement", {})
    if not isinstance(settlement, dict):
        problems.append(Problem(label, "expected_table", key="settlement"))
        settlement = {}

    services: dict[str, float] = {}
    raw_services = table.get("services", {})
    if not isinstance(raw_services, dict):
        problems.append(Problem(label, "expected_table", key="services"))
        raw_services = {}
    for service, total in raw_services.items():
        value = check_number(total, problems, label, key=f'services."{service}"')
        if value is not None:
            services[service] = value

    weights: dict[str, dict[str, float]] = {}
    raw_weights = table.get("weights", {})
    if not isinstance(raw_weights, dict):
        problems.append(Problem(label, "expected_table", key="weights"))
        raw_weights = {}
    for service, formula in raw_weights.items():
        if not isinstance(formula, dict) or not formula:
            problems.append(Problem(label, "weights_not_table", key=f'weights."{service}"'))
            continue
        checked = {
            indicator: check_number(weight, problems, label, key=f'weights."{service}".{indicator}')
            for indicator, weight in formula.items()
        }
        if None not in checked.values():
            weights[service] = checked
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
        source=label,
        sha256=sha256,
        problems=tuple(problems),
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


def merged_settlement(dataset: Dataset, scenario: Scenario) -> dict:
    """The dataset's [settlement] with the scenario's keys over it (SPEC §5).

    Giving notional_band_d drops the dataset's aef_total, and vice versa; ``"none"``
    removes a floor or a cap.
    """
    merged = dataset.settlement.as_dict()
    if "notional_band_d" in scenario.settlement:
        merged.pop("aef_total", None)
    if "aef_total" in scenario.settlement:
        merged.pop("notional_band_d", None)
    for key, value in scenario.settlement.items():
        if key in REMOVABLE and isinstance(value, str) and value.strip().lower() == REMOVE:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def apply_scenario(dataset: Dataset, scenario: Scenario) -> Dataset:
    """The dataset changed by the scenario, in SPEC §5 order: settlement, services, weights,
    then the top-level ``[[dehypothecate]]`` and ``[[consolidate]]`` moves (the first year of
    any transition). ``[[years]]`` are run by :func:`dsg.grants.paths.run_path`.

    Raises :class:`InputError` listing every way the scenario does not fit the dataset.
    """
    label = scenario.source
    problems: list[Problem] = list(scenario.problems)
    settlement, found = parse_settlement(merged_settlement(dataset, scenario), label)
    problems += found

    known_services = set(dataset.services["service"].to_list())
    known_indicators = set(dataset.indicators["indicator"].to_list())
    for service in scenario.services:
        if service not in known_services:
            problems.append(Problem(label, "unknown_service", key=f'services."{service}"', params={"value": service}))
    used: dict[str, tuple[str, str]] = {}
    # [weights."X"] may give the formula of a new block X that a grant moves into.
    new_blocks = {move.into_service for move in all_moves(scenario)} - known_services
    for service, formula in scenario.weights.items():
        key = f'weights."{service}"'
        if service not in known_services and service not in new_blocks:
            problems.append(Problem(label, "unknown_service", key=key, params={"value": service}))
        for indicator in formula:
            if indicator not in known_indicators:
                problems.append(Problem(label, "unknown_indicator", key=f"{key}.{indicator}", params={"value": indicator}))
            else:
                used.setdefault(indicator, (label, key))
    new_weights = pl.DataFrame(
        [(s, k, w) for s, formula in scenario.weights.items() for k, w in formula.items() if s in known_services],
        schema={"service": pl.String, "indicator": pl.String, "weight": pl.Float64},
        orient="row",
    )
    block_weights = pl.DataFrame(
        [(s, k, w) for s, formula in scenario.weights.items() for k, w in formula.items() if s in new_blocks],
        schema={"service": pl.String, "indicator": pl.String, "weight": pl.Float64},
        orient="row",
    )
    problems += weight_sum_problems(
        pl.concat([new_weights, block_weights]), label, key_of=lambda service: f'weights."{service}"'
    )
    if settlement is not None:
        for key in ("ndr_indicator", "taxbase_indicator"):
            if key in scenario.settlement:
                used.setdefault(getattr(settlement, key), (label, f"settlement.{key}"))
    problems += indicator_problems(dataset.indicators, dataset.councils, used)
    if problems:
        if scenario.dehypothecate or scenario.consolidate:
            problems += grant_problems(dataset, with_block_weights(scenario, known_services))
        raise InputError(problems)

    services = dataset.services.with_columns(
        pl.col("service").replace_strict(scenario.services, default=pl.col("total"), return_dtype=pl.Float64).alias("total")
    )
    weights = pl.concat(
        [dataset.weights.filter(~pl.col("service").is_in(list(scenario.weights))), new_weights],
        how="diagonal_relaxed",
    )
    changed = dataset.with_changes(
        settlement=settlement,
        services=services,
        weights=weights,
        provenance={
            **dataset.provenance,
            "scenario_file": scenario.source,
            "scenario_name": scenario.name,
            "scenario_sha256": scenario.sha256,
        },
    )
    if scenario.dehypothecate or scenario.consolidate:
        changed, problems = first_year(changed, with_block_weights(scenario, known_services))
        raise_if(problems)
    return changed
