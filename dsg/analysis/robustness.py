"""How robust is a formula: weight sweeps, Monte Carlo on weights, and goal seek.

All three build batches of settlements on the engine (dsg.formula.batch); none has its own
arithmetic of the settlement.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from dsg.analysis.explain import find_council
from dsg.analysis.names import goalseek_problems, indicator_named, service_named, sweep_problems
from dsg.analysis.options import (
    TARGETS,
    goalseek_option_problems,
    montecarlo_option_problems,
    sweep_option_problems,
)
from dsg.errors import InputError, Problem, raise_if
from dsg.formula import batch as batches
from dsg.formula import kernels
from dsg.formula.arrays import Inputs, indicator_values, to_inputs
from dsg.formula.dataset import Dataset
from dsg.formula.params import RESULT_LIMIT, changed_settlement, on_floor, range_text
from dsg.formula.settle import Allocation, settle, settle_inputs, settlement_source
from dsg.formula.spellings import indicator_spellings, service_spellings, unknown

# --------------------------------------------------------------------------- weights


def service_index(dataset: Dataset, inputs: Inputs, service: str, where: str) -> int:
    """The position of the service ``service`` names (forgivingly: see dsg.formula.names)."""
    found = service_named(dataset, service)
    if found is None or found not in inputs.services:
        raise InputError([unknown(where, "service", service, service_spellings(dataset))])
    return inputs.services.index(found)


def with_indicator(dataset: Dataset, indicator: str, where: str) -> tuple[Inputs, int]:
    """The dataset's inputs with the indicator ``indicator`` names on the indicator axis
    (weight 0 if unused), and its position there."""
    found = indicator_named(dataset, indicator)
    if found is None:
        raise InputError([unknown(where, "indicator", indicator, indicator_spellings(dataset))])
    used = tuple(dict.fromkeys([*dataset.weights["indicator"].to_list(), found]))
    inputs = to_inputs(dataset, used)
    return inputs, inputs.indicators.index(found)


def moved_weights(weights: np.ndarray, service: int, indicator: int, value: float, where: str) -> np.ndarray:
    """The service's weights with one set to ``value`` and the others rescaled to sum to 1."""
    row = weights[service]
    others = 1.0 - row[indicator]
    moved = weights.copy()
    if others <= 0 and value < 1:
        raise InputError([Problem(where, "cannot_rescale")])
    scale = (1.0 - value) / others if others > 0 else 0.0
    moved[service] = row * scale
    moved[service, indicator] = value
    return moved


# --------------------------------------------------------------------------- sweep


@dataclass(frozen=True)
class Sweep:
    """One weight moved in steps: AEF, % change and floor top-up (steps x councils)."""

    service: str
    indicator: str
    values: np.ndarray
    aef: np.ndarray
    pct_change: np.ndarray
    floor_topup: np.ndarray
    dataset: Dataset
    current_weight: float = 0.0  # the weight the formula has now (0 if it does not use it)


def sweep(dataset: Dataset, service: str, indicator: str, start: float, stop: float, steps: int) -> Sweep:
    """Move the weight of ``indicator`` in ``service`` from start to stop in ``steps`` steps;
    the service's other weights rescale to keep the sum at 1."""
    raise_if(sweep_option_problems(start, stop, steps) + sweep_problems(dataset, service, indicator))
    inputs, k = with_indicator(dataset, indicator, "--indicator")
    s = service_index(dataset, inputs, service, "--service")
    service, indicator = inputs.services[s], inputs.indicators[k]  # as the dataset spells them
    values = np.linspace(start, stop, steps)
    pounds = np.array([inputs.service_totals @ moved_weights(inputs.weights, s, k, v, "--indicator") for v in values])
    result = batches.settle_many(inputs, batches.repeat(inputs, steps, indicator_pounds=pounds))
    check_status(result["status"], dataset)
    current = float(inputs.weights[s, k])
    return Sweep(
        service, indicator, values, result["aef"], result["pct_change"], result["floor_topup"], dataset, current
    )


def check_status(status: np.ndarray, dataset: Dataset) -> None:
    """Refuse a batch in which some settlement was impossible (it would be silently wrong)."""
    if np.any(status == kernels.NEGATIVE_BAND_D):
        raise InputError(
            [
                Problem(
                    dataset.name,
                    "batch_negative_band_d",
                    params={"count": int(np.sum(status == kernels.NEGATIVE_BAND_D))},
                )
            ]
        )
    if np.any(status == kernels.FLOOR_NOT_SELF_FUNDABLE):
        raise InputError(
            [
                Problem(
                    dataset.name,
                    "batch_floor_not_fundable",
                    params={"count": int(np.sum(status == kernels.FLOOR_NOT_SELF_FUNDABLE))},
                )
            ]
        )
    # What is left is batches.IMPLAUSIBLE: a settlement that ran but gives an absurd figure.
    if np.any(status != kernels.OK):
        implausible_batch(dataset)


def implausible_batch(dataset: Dataset) -> None:
    """Refuse a batch in which some settlement gives a figure that is not finite or is beyond
    RESULT_LIMIT: it would be shown or written as a silently wrong figure (SPEC §6)."""
    raise InputError(
        [Problem(settlement_source(dataset), "batch_implausible", params={"limit": range_text(RESULT_LIMIT)})]
    )


# --------------------------------------------------------------------------- Monte Carlo


@dataclass(frozen=True)
class MonteCarlo:
    """Per-council summaries of % change over random weights (and indicator noise)."""

    dataset: Dataset
    samples: int
    seed: int
    concentration: float
    indicator_noise: float
    summary: batches.Summary
    central: np.ndarray  # % change with the dataset's own weights

    def percentiles(self) -> dict[str, np.ndarray]:
        return {f"p{p}": self.summary.percentile(p) for p in (5, 50, 95)}


def dirichlet_parameters(inputs: Inputs, concentration: float) -> np.ndarray:
    """Each service's Dirichlet parameters (services x indicators): its weights times the
    concentration, 0 where the service does not use the indicator."""
    return concentration * inputs.weights


def draw_chunks(
    inputs: Inputs, raw: np.ndarray, samples: int, seed: int, chunk: int, concentration: float, noise: float
):
    """The random scenarios in chunks of ``chunk``, drawn in parallel into buffers made once;
    scenario j's draws depend on (seed, j) alone."""
    from dsg.formula.draws import draw_kernel

    size = min(chunk, samples)
    # Indicator by indicator, as the batch kernel reads them; a last, shorter chunk gets an
    # array of its own, contiguous like the others (a slice is not, and would be compiled
    # for again).
    pounds = np.empty((len(inputs.indicators), size))
    shares = np.empty((size, *raw.shape)) if noise > 0 else np.empty((0, 0, 0))
    alphas = dirichlet_parameters(inputs, concentration)
    for first in range(0, samples, size):
        n = min(size, samples - first)
        if n < size:
            pounds = np.empty((len(inputs.indicators), n))
        with np.errstate(over="ignore"):  # the generator's 64-bit products wrap by design (plain Python, no JIT)
            draw_kernel(seed, first, inputs.service_totals, alphas, raw, float(noise), pounds, shares[:n])
        yield batches.repeat(inputs, n, indicator_pounds=pounds.T, shares=shares[:n] if noise > 0 else inputs.shares)


# A chunk's draws (£ per indicator) take at most CHUNK_BYTES, and its per-scenario shares
# (with indicator noise) at most NOISY_CHUNK_BYTES.
CHUNK_BYTES = 16 * 2**20
MIN_CHUNK, MAX_CHUNK = 1024, 262_144
NOISY_CHUNK_BYTES = 64 * 2**20


def montecarlo(
    dataset: Dataset,
    samples: int,
    seed: int = 0,
    concentration: float = 200.0,
    indicator_noise: float = 0.0,
    chunk: int | None = None,
    progress=None,
) -> MonteCarlo:
    """Settle ``samples`` scenarios whose weights are drawn, service by service, from a
    Dirichlet centred on the dataset's weights (larger ``concentration``: closer to them),
    with optional +/- ``indicator_noise`` % on every indicator value. ``chunk`` scenarios are
    drawn and settled at a time (by default as many as CHUNK_BYTES of draws hold); the
    figures do not depend on it."""
    raise_if(montecarlo_option_problems(samples, seed, concentration, indicator_noise))
    inputs = to_inputs(dataset)
    raw = np.array([indicator_values(dataset, k) for k in inputs.indicators])
    if chunk is None:
        # Large chunks: each one starts the parallel kernels once, which costs time.
        chunk = min(MAX_CHUNK, max(MIN_CHUNK, CHUNK_BYTES // (8 * len(inputs.indicators))))
    if indicator_noise > 0:
        # Each scenario then has its own shares (indicators x councils): fewer per chunk, so
        # that a chunk stays within NOISY_CHUNK_BYTES however large the dataset.
        chunk = max(1, min(chunk, NOISY_CHUNK_BYTES // (8 * raw.size)))
    parts = draw_chunks(inputs, raw, samples, seed, chunk, concentration, indicator_noise)
    summary = batches.summarise(inputs, parts, progress)
    if summary.implausible:
        implausible_batch(dataset)
    out, _ = settle_inputs(inputs)
    return MonteCarlo(dataset, samples, seed, concentration, indicator_noise, summary, out[kernels.PCT_CHANGE].copy())


# --------------------------------------------------------------------------- goal seek

# How each target is met: the metric at most / at least / equal to the value.
TARGET_SENSE = {"floor-cost": "at_most", "min-pct": "at_least", "council-aef": "equals", "on-floor": "at_most"}
MAX_ITERATIONS = 100


@dataclass(frozen=True)
class GoalSeek:
    parameter: str
    value: float
    metric: float
    iterations: int
    allocation: Allocation


def parameter_setter(dataset: Dataset, parameter: str):
    """A function value -> Dataset for ``floor``, ``service:NAME`` or ``weight:SERVICE:INDICATOR``."""
    kind, _, rest = parameter.partition(":")
    if kind == "floor" and not rest:

        def with_floor(value):
            # Every floor/cap rule of [settlement] holds for a floor tried by goal seek too.
            settlement, problems = changed_settlement(
                dataset.settlement, "--vary floor", {"floor_percent": "--range"}, floor_percent=value
            )
            raise_if(problems)
            return dataset.with_changes(settlement=settlement)

        return with_floor
    if kind == "service" and rest:
        named = service_named(dataset, rest)
        if named is None:
            raise InputError([unknown("--vary", "service", rest, service_spellings(dataset))])
        return lambda value: dataset.with_changes(
            services=dataset.services.with_columns(
                pl.when(pl.col("service") == named).then(pl.lit(float(value))).otherwise(pl.col("total")).alias("total")
            )
        )
    if kind == "weight" and rest.count(":") == 1:
        typed_service, typed_indicator = rest.split(":")
        inputs, k = with_indicator(dataset, typed_indicator, "--vary")
        s = service_index(dataset, inputs, typed_service, "--vary")
        service = inputs.services[s]

        def with_weight(value):
            weights = moved_weights(inputs.weights, s, k, value, "--vary")
            rows = [
                (service, inputs.indicators[j], float(weights[s, j]))
                for j in range(len(inputs.indicators))
                if weights[s, j] > 0
            ]
            new = pl.DataFrame(
                rows, schema={"service": pl.String, "indicator": pl.String, "weight": pl.Float64}, orient="row"
            )
            kept = dataset.weights.filter(pl.col("service") != service)
            return dataset.with_changes(weights=pl.concat([kept, new], how="diagonal_relaxed"))

        return with_weight
    raise InputError([Problem("--vary", "bad_parameter", params={"value": parameter})])


def target_metric(target: str, council: str | None):
    if target not in TARGETS:
        raise InputError([Problem("--target", "bad_choice", params={"value": target, "allowed": ", ".join(TARGETS)})])
    if target == "council-aef" and not council:
        raise InputError([Problem("--council", "missing_key")])

    def metric(allocation: Allocation) -> float:
        if target == "floor-cost":
            return allocation.floor_cost
        if target == "min-pct":
            lowest = allocation.councils["pct_change"].min()
            assert isinstance(lowest, float)  # a Float64 column with a row per council
            return lowest
        if target == "on-floor":
            return float(on_floor(allocation.councils["floor_topup"]).sum())
        assert council is not None  # checked above: council-aef needs --council
        return float(allocation.councils["aef"][find_council(allocation.dataset, council)])

    return metric


def goalseek(
    dataset: Dataset,
    parameter: str,
    low: float,
    high: float,
    target: str,
    value: float,
    council: str | None = None,
    tolerance: float = 1e-9,
    shown=str,
) -> GoalSeek:
    """Find the parameter value in [low, high] that meets the target, by bisection.
    ``shown(value)`` writes a value of the parameter in a message (the caller knows how:
    £ for a service total, % for a floor).

    "at most" and "at least" targets give the value nearest the boundary that still meets
    the target (e.g. the highest floor whose cost is at most £X); "equals" gives the value
    where the metric crosses the target. Assumes the metric moves one way across the range.
    """
    raise_if(
        goalseek_option_problems(parameter, low, high, target, value, council)
        + goalseek_problems(dataset, parameter, target, council)
    )
    setter = parameter_setter(dataset, parameter)
    # Both ends of the range must be allowed values, checked together.
    problems: list[Problem] = []
    for end in (low, high):
        try:
            setter(end)
        except InputError as error:
            problems += error.problems
    raise_if(problems)
    metric = target_metric(target, council)
    sense = TARGET_SENSE[target]

    def gap(v: float) -> tuple[float, Allocation]:
        allocation = settle(setter(v))
        return metric(allocation) - value, allocation

    # A settlement that is impossible at an end (a floor that cannot be self-funded) is a
    # problem of the range asked for, not of the scenario.
    ends: list[tuple[float, Allocation]] = []
    for end in (low, high):
        try:
            ends.append(gap(end))
        except InputError as error:
            problems += [Problem("--range", p.code, params={**p.params, "value": shown(end)}) for p in error.problems]
    raise_if(problems)

    def ok(g: float) -> bool:
        return g <= 0 if sense == "at_most" else g >= 0 if sense == "at_least" else False

    (g_low, a_low), (g_high, a_high) = ends
    iterations = 2
    if sense == "equals":
        if g_low == 0 or g_high == 0:
            v, a = (low, a_low) if g_low == 0 else (high, a_high)
            return GoalSeek(parameter, v, metric(a), iterations, a)
        if (g_low > 0) == (g_high > 0):
            raise InputError(
                [Problem("--target", "target_not_in_range", params={"low": shown(low), "high": shown(high)})]
            )
    else:
        if not ok(g_low) and not ok(g_high):
            raise InputError(
                [Problem("--target", "target_not_in_range", params={"low": shown(low), "high": shown(high)})]
            )
        if ok(g_low) and ok(g_high):
            # The whole range meets it: the end nearer the boundary.
            v, a = (low, a_low) if abs(g_low) < abs(g_high) else (high, a_high)
            return GoalSeek(parameter, v, metric(a), iterations, a)
    # Keep one end on each side; for at-most/at-least, `good` is the side that meets it.
    good, bad = (low, high) if (ok(g_low) if sense != "equals" else g_low < 0) else (high, low)
    best = a_low if good == low else a_high
    span = tolerance * max(1.0, abs(high - low))
    while abs(bad - good) > span and iterations < MAX_ITERATIONS:
        middle = (good + bad) / 2
        g, allocation = gap(middle)
        iterations += 1
        if sense == "equals" and g == 0:
            good, best = middle, allocation
            break
        if ok(g) if sense != "equals" else g < 0:
            good, best = middle, allocation
        else:
            bad = middle
    return GoalSeek(parameter, good, metric(best), iterations, best)
