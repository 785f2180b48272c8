"""The options of the analysis commands and their checks, importable without the engine.

``--help`` lists the choices, and a bad option is found with the other problems before
polars or numba load; the analysis functions run the same checks when called from Python.
"""

from __future__ import annotations

import math

from dsg.errors import Problem

SORTS = ("order", "difference", "pct")
METHODS = ("shapley", "sequential")
MEASURES = ("aef", "rsg")
TARGETS = ("floor-cost", "min-pct", "council-aef", "on-floor")
# Ten billion settlements take hours on this engine; more is a mistake, not a plan.
MAX_SAMPLES = 10_000_000_000
# Seeds are 64-bit integers in the kernel; a signed one keeps every seed one type.
MAX_SEED = 2**63 - 1
# A sweep is a table for people to read; more steps than this is a Monte Carlo's job.
MAX_STEPS = 1001
# Fewer scenarios than this and a timing measures Python's overheads, not the engines.
MIN_BENCH_SCENARIOS = 1000


def sweep_option_problems(start: float, stop: float, steps: int) -> list[Problem]:
    problems = []
    if not (0 <= start <= 1 and 0 <= stop <= 1):
        problems.append(Problem("--from/--to", "weight_out_of_range", params={"start": start, "stop": stop}))
    if not 2 <= steps <= MAX_STEPS:
        problems.append(Problem("--steps", "steps_out_of_range", params={"value": steps, "most": MAX_STEPS}))
    if start == stop:
        problems.append(Problem("--from/--to", "empty_range", params={"value": start}))
    return problems


def montecarlo_option_problems(samples: int, seed: int, concentration: float, indicator_noise: float) -> list[Problem]:
    problems = []
    if samples > MAX_SAMPLES:
        problems.append(Problem("--samples", "too_many_samples", params={"value": samples, "most": MAX_SAMPLES}))
    if samples < 1:
        problems.append(Problem("--samples", "not_positive", params={"value": samples}))
    if seed < 0:
        problems.append(Problem("--seed", "negative", params={"value": seed}))
    elif seed > MAX_SEED:
        problems.append(Problem("--seed", "seed_too_large", params={"value": seed, "most": MAX_SEED}))
    if not (math.isfinite(concentration) and concentration > 0):
        problems.append(Problem("--concentration", "not_positive", params={"value": concentration}))
    if not 0 <= indicator_noise < 100:
        problems.append(Problem("--indicator-noise", "noise_out_of_range", params={"value": indicator_noise}))
    return problems


def goalseek_option_problems(
    parameter: str, low: float, high: float, target: str, value: float, council: str | None
) -> list[Problem]:
    """What can be said of goal seek's options without a dataset (names are checked on it)."""
    problems = []
    kind, _, rest = parameter.partition(":")
    if not (
        (kind == "floor" and not rest) or (kind == "service" and rest) or (kind == "weight" and rest.count(":") == 1)
    ):
        problems.append(Problem("--vary", "bad_parameter", params={"value": parameter}))
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        problems.append(Problem("--range", "bad_range", params={"low": low, "high": high}))
    if kind == "weight" and not (0 <= low and high <= 1):
        problems.append(Problem("--range", "weight_out_of_range", params={"start": low, "stop": high}))
    if kind == "service" and low < 0:
        problems.append(Problem("--range", "negative", params={"value": low}))
    if target not in TARGETS:
        problems.append(Problem("--target", "bad_choice", params={"value": target, "allowed": ", ".join(TARGETS)}))
    if target == "council-aef" and not council:
        problems.append(Problem("--council", "missing_key"))
    if not math.isfinite(value):
        problems.append(Problem("--value", "not_a_number", params={"value": value}))
    return problems


def bench_option_problems(scenarios: int) -> list[Problem]:
    if scenarios < MIN_BENCH_SCENARIOS:
        return [Problem("--scenarios", "too_few_scenarios", params={"value": scenarios, "least": MIN_BENCH_SCENARIOS})]
    return []
