"""Pure grant moves: each takes arrays or a Dataset and returns new ones, settling nothing.

A transfer (dehypothecation) moves a grant into a service block; a consolidation key shares
a merged grant by indicators; protection holds each council near last year's allocation by
the settlement's own self-funded floor (kernels.protect).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import polars as pl

from dsg.formula import kernels
from dsg.formula.arrays import NO_VALUE, indicator_values, shares_of
from dsg.formula.dataset import Dataset
from dsg.formula.scenario import Dehypothecation


def council_grants(dataset: Dataset) -> np.ndarray:
    """Each council's specific grants, all grants together (0 with no grants.csv)."""
    return sum(grant_amounts(dataset).values(), np.zeros(len(dataset.council_codes)))


def grant_amounts(dataset: Dataset) -> dict[str, np.ndarray]:
    """Each grant's allocation to every council (0 where it has none), in file order."""
    amounts: dict[str, np.ndarray] = {}
    if dataset.grants is None:
        return amounts
    position = {code: i for i, code in enumerate(dataset.council_codes)}
    for grant, code, amount in dataset.grants.select("grant", "ons_code", "amount").iter_rows():
        amounts.setdefault(grant, np.zeros(len(position)))[position[code]] += amount
    return amounts


def with_grant_amounts(dataset: Dataset, amounts: dict[str, np.ndarray]) -> Dataset:
    """The dataset holding these grant allocations (grants.csv's three columns)."""
    codes = dataset.council_codes
    rows = [(grant, code, float(values[i])) for grant, values in amounts.items() for i, code in enumerate(codes)]
    frame = pl.DataFrame(rows, schema={"grant": pl.String, "ons_code": pl.String, "amount": pl.Float64}, orient="row")
    return dataset.with_changes(grants=frame)


def key_shares(dataset: Dataset, key: dict[str, float]) -> np.ndarray:
    """Each council's share under a distribution key: sum_k w_k share[k, i]."""
    return sum(
        (weight * shares_of(indicator_values(dataset, indicator)) for indicator, weight in key.items()),
        np.zeros(len(dataset.council_codes)),
    )


def protected_allocation(
    previous: np.ndarray, proposed: np.ndarray, protection_percent: float | None
) -> tuple[np.ndarray, float]:
    """``proposed`` with no council below (1 + p/100) x ``previous``, paid for inside the same
    total by scaling back those above: the self-funded floor of the settlement (kernels.protect).

    Returns the protected allocation and the rate taken from the gains (above 1: impossible).
    """
    if protection_percent is None:
        return proposed.copy(), 0.0
    topup, cap, self_funding, protected = (np.zeros_like(proposed) for _ in range(4))
    rate, _, _ = kernels.protect(
        proposed, previous, float(protection_percent), NO_VALUE, True, topup, cap, self_funding, protected
    )
    return protected, float(rate)


def transfer(dataset: Dataset, move: Dehypothecation, amounts: np.ndarray) -> Dataset:
    """The settlement side of a dehypothecation (SPEC §5): the service total and aef_total grow
    by the amount moved, and each council's base by its part of it."""
    moved = float(amounts.sum())
    services = dataset.services
    weights = dataset.weights
    if move.into_service in services["service"].to_list():
        services = services.with_columns(
            pl.when(pl.col("service") == move.into_service)
            .then(pl.col("total") + moved)
            .otherwise(pl.col("total"))
            .alias("total")
        )
    else:
        assert move.weights is not None  # PathRunner.start_move refuses a new block without weights
        services = pl.concat(
            [
                services,
                pl.DataFrame({"service": [move.into_service], "total": [moved], "name_cy": [move.into_service]}),
            ],
            how="diagonal_relaxed",
        )
        new_weights = pl.DataFrame(
            {
                "service": [move.into_service] * len(move.weights),
                "indicator": list(move.weights),
                "weight": list(move.weights.values()),
            }
        )
        weights = pl.concat([weights, new_weights], how="diagonal_relaxed")
    settlement = dataset.settlement
    if settlement.aef_total is not None:
        settlement = replace(settlement, aef_total=settlement.aef_total + moved)
    base = dataset.base.with_columns(pl.Series("base_aef", dataset.base["base_aef"].to_numpy() + amounts))
    return dataset.with_changes(services=services, weights=weights, settlement=settlement, base=base)
