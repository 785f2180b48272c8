"""A scenario's formula parts applied to a dataset: a pure ``Dataset -> Dataset``.

SPEC §5 order: ``[settlement]``, ``[services]``, ``[weights]``. Grant moves and later years
change the dataset year by year and are run by dsg.grants.path, above the formula; a
``[weights."X"]`` table for a new block X that a grant creates waits for that grant.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from dsg.errors import Problem, raise_if
from dsg.formula.dataset import Dataset, indicator_problems, weight_sum_problems
from dsg.formula.names import find
from dsg.formula.params import Settlement, overlay, parse_settlement
from dsg.formula.scenario import Scenario, all_moves
from dsg.formula.spellings import indicator_spellings, service_spellings, unknown

WEIGHT_SCHEMA = {"service": pl.String, "indicator": pl.String, "weight": pl.Float64}


def scenario_settlement(dataset: Dataset, scenario: Scenario) -> tuple[Settlement | None, list[Problem]]:
    """The dataset's parameters with the scenario's over them, through every rule."""
    return parse_settlement(overlay(dataset.settlement.as_dict(), scenario.settlement), scenario.source)


def new_blocks(dataset: Dataset, scenario: Scenario) -> set[str]:
    """Services that the scenario's grant moves create."""
    return {move.into_service for move in all_moves(scenario)} - set(dataset.services["service"].to_list())


def weight_frame(weights: dict[str, dict[str, float]]) -> pl.DataFrame:
    rows = [
        (service, indicator, weight) for service, formula in weights.items() for indicator, weight in formula.items()
    ]
    return pl.DataFrame(rows, schema=WEIGHT_SCHEMA, orient="row")


def dataset_names(dataset: Dataset, scenario: Scenario) -> Scenario:
    """The scenario with its service and indicator names spelt as the dataset spells them,
    where a name matches forgivingly (dsg.formula.names: case, accents, punctuation; a service
    in Welsh). A name that matches none, or whose match is already written, stays as it is."""
    services = service_spellings(dataset)
    indicators = indicator_spellings(dataset)

    def renamed(table: dict, spellings: dict) -> dict:
        out: dict = {}
        for name, value in table.items():
            found = find(name, spellings)
            out[found if found is not None and found not in table and found not in out else name] = value
        return out

    weights = {service: renamed(formula, indicators) for service, formula in scenario.weights.items()}
    return replace(scenario, services=renamed(scenario.services, services), weights=renamed(weights, services))


def formula_problems(dataset: Dataset, scenario: Scenario) -> list[Problem]:
    """Every way the scenario's shape and formula parts do not fit the dataset."""
    scenario = dataset_names(dataset, scenario)
    label = scenario.source
    problems: list[Problem] = list(scenario.problems)
    settlement, found = scenario_settlement(dataset, scenario)
    problems += found
    known_services = set(dataset.services["service"].to_list())
    known_indicators = set(dataset.indicators["indicator"].to_list())
    for service in scenario.services:
        if service not in known_services:
            problems.append(unknown(label, "service", service, service_spellings(dataset), f'services."{service}"'))
    used: dict[str, tuple[str, str]] = {}
    blocks = new_blocks(dataset, scenario)
    # Names whose values were refused are looked up as forgivingly as the others.
    for key, service in scenario.refused_services:
        if find(service, service_spellings(dataset)) is None and not (key.startswith("weights") and service in blocks):
            problems.append(unknown(label, "service", service, service_spellings(dataset), key))
    for key, indicator in scenario.refused_indicators:
        if find(indicator, indicator_spellings(dataset)) is None:
            problems.append(unknown(label, "indicator", indicator, indicator_spellings(dataset), key))
    for service, formula in scenario.weights.items():
        key = f'weights."{service}"'
        if service not in known_services and service not in blocks:
            problems.append(unknown(label, "service", service, service_spellings(dataset), key))
        for indicator in formula:
            if indicator not in known_indicators:
                problems.append(
                    unknown(label, "indicator", indicator, indicator_spellings(dataset), f"{key}.{indicator}")
                )
            else:
                used.setdefault(indicator, (label, key))
    checked = {s: f for s, f in scenario.weights.items() if s in known_services or s in blocks}
    problems += weight_sum_problems(weight_frame(checked), label, key_of=lambda service: f'weights."{service}"')
    if settlement is not None:
        for key, indicator in settlement.indicators().items():
            if key in scenario.settlement:
                used.setdefault(indicator, (label, f"settlement.{key}"))
    problems += indicator_problems(dataset.indicators, dataset.councils, used)
    return problems


def apply_scenario(dataset: Dataset, scenario: Scenario) -> Dataset:
    """The dataset with the scenario's settlement, services and weights (SPEC §5), and the
    scenario named in its provenance. Pure: ``dataset`` is unchanged and nothing is settled.

    Raises :class:`dsg.InputError` listing every way the scenario does not fit.
    """
    scenario = dataset_names(dataset, scenario)
    raise_if(formula_problems(dataset, scenario))
    settlement, _ = scenario_settlement(dataset, scenario)
    known_services = set(dataset.services["service"].to_list())
    services = dataset.services.with_columns(
        pl.col("service")
        .replace_strict(scenario.services, default=pl.col("total"), return_dtype=pl.Float64)
        .alias("total")
    )
    replaced = [s for s in scenario.weights if s in known_services]
    weights = pl.concat(
        [
            dataset.weights.filter(~pl.col("service").is_in(replaced)),
            weight_frame({s: scenario.weights[s] for s in replaced}),
        ],
        how="diagonal_relaxed",
    )
    return dataset.with_changes(
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
