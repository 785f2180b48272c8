"""Monte Carlo draws in parallel, from a counter-based generator.

Each scenario's random numbers come from a key made of (seed, scenario index) and a counter
that starts at 0 for every scenario: the numbers a scenario gets do not depend on how the
scenarios are cut into chunks, on the number of threads, or on the order they run in. The
generator is SplitMix64's mixing function applied to key + counter x the golden-ratio step,
a well-tested 64-bit hash that passes the usual statistical batteries as a counter-based
generator; 53 bits of each output make a uniform number in (0, 1).

Random weights are Dirichlet, drawn as independent gamma variates (Marsaglia and Tsang's
method, boosted for shapes below 1 and then kept as logarithms, on normal numbers from
Marsaglia's polar method) divided by their sum; each service's total times its
weights is added straight into the scenario's £ per indicator, so no weight matrix is kept.
"""

from __future__ import annotations

import math

import numpy as np

from dsg.formula.compiled import in_threads, jit, thread_count

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
MIX_2 = np.uint64(0x94D049BB133111EB)
SHIFT_1, SHIFT_2, SHIFT_3, SHIFT_53 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
TWO_TO_MINUS_53 = 2.0**-53


@jit(cache=True, nogil=True)
def mix64(z):
    z = (z ^ (z >> SHIFT_1)) * MIX_1
    z = (z ^ (z >> SHIFT_2)) * MIX_2
    return z ^ (z >> SHIFT_3)


@jit(cache=True, nogil=True)
def scenario_key(seed, index):
    """The key of scenario ``index`` of a run seeded with ``seed`` (both at least 0)."""
    return mix64(mix64(np.uint64(seed) * GOLDEN + GOLDEN) ^ np.uint64(index))


@jit(cache=True, nogil=True)
def uniform(key, counter):
    """The ``counter``-th uniform number of ``key``, in (0, 1): never 0, never 1."""
    # Every operand unsigned: numba (like NumPy) would add int64 and uint64 as floats.
    bits = mix64(np.uint64(key) + np.uint64(counter) * GOLDEN) >> SHIFT_53
    return (float(bits) + 0.5) * TWO_TO_MINUS_53


@jit(cache=True, nogil=True)
def normal_pair(key, counter):
    """Two independent standard normal numbers (Marsaglia's polar method) and the next counter."""
    while True:
        x = 2.0 * uniform(key, counter) - 1.0
        y = 2.0 * uniform(key, counter + 1) - 1.0
        counter += 2
        s = x * x + y * y
        if 0.0 < s < 1.0:
            factor = math.sqrt(-2.0 * math.log(s) / s)
            return x * factor, y * factor, counter


@jit(cache=True, nogil=True)
def gamma_variate(d, c, key, counter, spare):
    """A Gamma(shape, 1) number for shape >= 1 (Marsaglia and Tsang, 2000), the next counter
    and the normal number left over (NaN when none). Normal numbers come in pairs; the second
    waits in ``spare`` for the next call. d = shape - 1/3 and c = 1 / sqrt(9 d) are the
    same for every scenario, so they are worked out once (see :func:`tsang_constants`)."""
    while True:
        if math.isnan(spare):
            x, spare, counter = normal_pair(key, counter)
        else:
            x, spare = spare, math.nan
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = uniform(key, counter)
        counter += 1
        if u < 1.0 - 0.0331 * x * x * x * x or math.log(u) < 0.5 * x * x + d * (1.0 - v + math.log(v)):
            return d * v, counter, spare


@jit(cache=True, nogil=True)
def log_gamma_variate(shape, d, c, key, counter, spare):
    """The logarithm of a Gamma(shape, 1) number for shape < 1, as Gamma(shape + 1) x
    U^(1 / shape), where d and c are the constants of shape + 1: logarithms, because with a
    shape of 0.001 the number itself is often below the smallest double."""
    log_boost = math.log(uniform(key, counter)) / shape
    value, counter, spare = gamma_variate(d, c, key, counter + 1, spare)
    return math.log(value) + log_boost, counter, spare


def tsang_constants(alphas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Marsaglia and Tsang's d and c for each Dirichlet parameter above 0, of its shape or,
    below 1, of the shape + 1 that log_gamma_variate draws from (0 where it is 0)."""
    d = np.where(alphas < 1.0, alphas + 1.0, alphas) - 1.0 / 3.0  # at least 2/3
    used = alphas > 0.0
    return np.where(used, d, 0.0), np.where(used, 1.0 / np.sqrt(9.0 * d), 0.0)


def draw_kernel(seed, first, service_totals, alphas, raw, noise, pounds, shares):
    """Draw scenarios first, first + 1, ... into ``pounds`` (indicators x N, the batch
    kernel's layout) and, when ``noise`` > 0, their indicator shares into ``shares``
    (N x indicators x councils), in as many parts as there are threads, side by side (see
    :func:`draw_scenarios`)."""
    n = pounds.shape[1]
    parts = max(1, min(thread_count(), n))
    tsang_d, tsang_c = tsang_constants(alphas)
    # Each service's indicators (those with a parameter above 0) in order, -1 after them, so
    # that a scenario's loops visit only those.
    used = alphas > 0.0
    counts = used.sum(axis=1)
    indicators = np.full(alphas.shape, -1, dtype=np.int64)
    for s, row in enumerate(used):
        indicators[s, : counts[s]] = np.flatnonzero(row)
    small = (used & (alphas < 1.0)).any(axis=1)

    def draw_part(part: int) -> None:
        draw_scenarios(
            seed,
            first,
            part * n // parts,
            (part + 1) * n // parts,
            service_totals,
            alphas,
            tsang_d,
            tsang_c,
            indicators,
            counts,
            small,
            raw,
            noise,
            pounds,
            shares,
        )

    in_threads(draw_part, parts)


@jit(cache=True, nogil=True)
def draw_scenarios(
    seed,
    first,
    start,
    stop,
    service_totals,
    alphas,
    tsang_d,
    tsang_c,
    indicators,
    counts,
    small,
    raw,
    noise,
    pounds,
    shares,
):
    """Rows ``start`` to ``stop`` of :func:`draw_kernel`'s arrays: scenarios first + start, ...

    ``alphas[s, k]`` are the Dirichlet parameters of service s (0 for an indicator it does not
    use; a service with one indicator keeps its weight of 1); service s uses the ``counts[s]``
    indicators ``indicators[s, :counts[s]]``, and ``small[s]`` says whether any of its
    parameters is below 1. Indicator values are ``raw`` x (1 + noise/100 x U(-1, 1)), then
    shared out. A scenario's numbers depend on (seed, its index) alone, so not on the parts.
    """
    n_indicators = pounds.shape[0]
    n_services = alphas.shape[0]
    n_councils = raw.shape[1]
    gammas = np.empty(n_indicators)
    for j in range(start, stop):
        key = scenario_key(seed, first + j)
        counter = 0
        spare = math.nan
        for k in range(n_indicators):
            pounds[k, j] = 0.0
        for s in range(n_services):
            if counts[s] == 1:  # one indicator: its weight stays 1
                pounds[indicators[s, 0], j] += service_totals[s]
                continue
            # Each weight is a gamma number over their sum. With a shape below 1 they are
            # taken as logarithms less the largest, so that none underflows to 0 and the
            # service's money is never lost.
            largest = -math.inf
            for u in range(counts[s]):
                k = indicators[s, u]
                d, c = tsang_d[s, k], tsang_c[s, k]
                if small[s]:
                    if alphas[s, k] < 1.0:
                        gammas[k], counter, spare = log_gamma_variate(alphas[s, k], d, c, key, counter, spare)
                    else:
                        value, counter, spare = gamma_variate(d, c, key, counter, spare)
                        gammas[k] = math.log(value)
                    largest = max(largest, gammas[k])
                else:
                    gammas[k], counter, spare = gamma_variate(d, c, key, counter, spare)
            total = 0.0
            for u in range(counts[s]):
                k = indicators[s, u]
                if small[s]:
                    gammas[k] = math.exp(gammas[k] - largest)
                total += gammas[k]
            for u in range(counts[s]):
                k = indicators[s, u]
                pounds[k, j] += service_totals[s] * (gammas[k] / total)
        if noise > 0.0:
            for k in range(n_indicators):
                indicator_total = 0.0
                for i in range(n_councils):
                    value = raw[k, i] * (1.0 + noise / 100.0 * (2.0 * uniform(key, counter) - 1.0))
                    counter += 1
                    shares[j, k, i] = value
                    indicator_total += value
                for i in range(n_councils):
                    shares[j, k, i] = shares[j, k, i] / indicator_total
