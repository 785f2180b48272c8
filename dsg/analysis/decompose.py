"""Decomposition of a change in AEF (or RSG) by cause.

Between a baseline and a scenario, the settlement's inputs fall into cause groups (service
totals, weights, ...). A *mixed* settlement takes some groups from the scenario and the rest
from the baseline. Two methods split each council's change into one part per cause, and
both add up exactly to the total change:

- **sequential**: switch the groups to their scenario values one at a time, in the order of
  ``CAUSES``; a cause's part is what its step changed. The parts depend on that order.
- **shapley**: a cause's part is its step averaged over every order (the Shapley value of
  the cause). It needs a settlement for every subset of the changed causes (2^G, 64 for six)
  and is the same whatever order the causes are listed in.

A cause's part includes what the floor and cap did in response to it: the "floor and cap"
cause is the effect of changing the floor and cap rules themselves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from itertools import combinations

import numpy as np
import polars as pl

from dsg.analysis.compare import Comparison
from dsg.analysis.options import METHODS
from dsg.errors import InputError, Problem
from dsg.formula import kernels
from dsg.formula.arrays import Inputs, to_inputs
from dsg.formula.settle import Allocation, settle_inputs, settlement_source

# (cause, the Inputs fields it covers), in the order the sequential method applies them:
# the settlement's size first, then how it is shared, then protection.
CAUSES = (
    ("services", ("service_totals",)),
    ("weights", ("weights",)),
    ("indicators", ("shares",)),
    ("quantum", ("aef_total", "notional_band_d")),
    ("taxbase", ("taxbase",)),
    ("fixed", ("fixed",)),
    ("base", ("base",)),
    ("ndr", ("ndr_pool", "ndr_share")),
    ("floor_cap", ("floor_percent", "cap_percent", "self_funded")),
)


@dataclass(frozen=True)
class Decomposition:
    """Each council's change split by cause: ``parts`` has one column per changed cause."""

    method: str
    measure: str
    causes: tuple[str, ...]
    parts: pl.DataFrame  # ons_code, name_en, name_cy, <cause>..., total
    settlements: int

    def table(self, lang: str = "en") -> pl.DataFrame:
        return self.parts.with_columns(pl.col(f"name_{lang}").alias("council")).select(
            "ons_code", "council", *self.causes, "total"
        )


def same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return a == b


def aligned_inputs(baseline: Allocation, scenario: Allocation) -> tuple[Inputs, Inputs]:
    """Both settlements' arrays on one indicator axis, so groups can be swapped."""

    def union(column: str, frames) -> tuple[str, ...]:
        return tuple(dict.fromkeys(value for frame in frames for value in frame[column].to_list()))

    indicators = union("indicator", (baseline.dataset.weights, scenario.dataset.weights))
    services = union("service", (baseline.dataset.services, scenario.dataset.services))
    return (
        to_inputs(baseline.dataset, indicators, services),
        to_inputs(scenario.dataset, indicators, services),
    )


def changed_causes(before: Inputs, after: Inputs) -> tuple[str, ...]:
    return tuple(
        cause for cause, fields in CAUSES if not all(same(getattr(before, f), getattr(after, f)) for f in fields)
    )


def mixed(before: Inputs, after: Inputs, causes: tuple[str, ...]) -> Inputs:
    """The baseline inputs with the given causes' fields from the scenario."""
    fields = {f: getattr(after, f) for cause, group in CAUSES if cause in causes for f in group}
    return replace(before, **fields)


def decompose(
    baseline: Allocation, scenario: Allocation, method: str = "shapley", measure: str = "aef"
) -> Decomposition:
    """Split each council's ``measure`` change (scenario minus baseline) by cause."""
    if method not in METHODS:
        raise InputError([Problem("--method", "bad_choice", params={"value": method, "allowed": ", ".join(METHODS)})])
    before, after = aligned_inputs(baseline, scenario)
    causes = changed_causes(before, after)
    values: dict[frozenset, np.ndarray] = {}

    def value(subset) -> np.ndarray:
        key = frozenset(subset)
        if key not in values:
            out, _ = settle_inputs(mixed(before, after, tuple(key)))
            values[key] = out[kernels.FIELD[measure]].copy()
        return values[key]

    parts: dict[str, np.ndarray] = {}
    if method == "sequential":
        for step, cause in enumerate(causes):
            parts[cause] = value(causes[: step + 1]) - value(causes[:step])
    else:
        count = len(causes)
        for cause in causes:
            others = [c for c in causes if c != cause]
            total = np.zeros(len(before.councils))
            for size in range(count):
                weight = math.factorial(size) * math.factorial(count - size - 1) / math.factorial(count)
                for subset in combinations(others, size):
                    total += weight * (value((*subset, cause)) - value(subset))
            parts[cause] = total
    total_change = scenario.councils[measure].to_numpy() - baseline.councils[measure].to_numpy()
    if any(not np.all(np.isfinite(v)) for v in values.values()):
        raise InputError([Problem(settlement_source(scenario.dataset), "decomposition_undefined")])
    frame = baseline.councils.select("ons_code", "name_en", "name_cy").with_columns(
        *(pl.Series(cause, parts[cause]) for cause in causes),
        pl.Series("total", total_change),
    )
    return Decomposition(method=method, measure=measure, causes=causes, parts=frame, settlements=len(values))


def decompose_comparison(comparison: Comparison, method: str = "shapley", measure: str = "aef") -> list[Decomposition]:
    """One decomposition per scenario of a comparison."""
    return [decompose(comparison.baseline, scenario, method, measure) for scenario in comparison.scenarios]
