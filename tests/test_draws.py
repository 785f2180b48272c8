"""Monte Carlo draws: the counter-based generator, its Dirichlet weights against NumPy's, and
draws that do not depend on chunks or threads."""

import numba
import numpy as np
import pytest

from dsg import load_dataset
from dsg.analysis.robustness import montecarlo
from dsg.formula import draws

MASK = (1 << 64) - 1


def numpy_mix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64's mixing function, written again in NumPy as the kernel's reference."""
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def test_the_generator_is_splitmix64_on_a_counter():
    # The published first outputs of SplitMix64 seeded with 0: the state goes up by the golden
    # step and each output is the mix of the state.
    first = [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]
    assert [int(draws.mix64(np.uint64((n * 0x9E3779B97F4A7C15) & MASK))) for n in (1, 2, 3)] == first
    key = draws.scenario_key(7, 12345)
    counters = np.arange(10_000, dtype=np.uint64)
    with np.errstate(over="ignore"):
        expected = ((numpy_mix64(key + counters * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(11)) + 0.5) * 2.0**-53
    got = np.array([draws.uniform(key, int(c)) for c in counters])
    np.testing.assert_array_equal(got, expected)
    assert 0 < got.min() and got.max() < 1


def uniforms(n: int, seed: int = 3) -> np.ndarray:
    key = draws.scenario_key(seed, 0)
    return np.array([draws.uniform(key, c) for c in range(n)])


def test_uniform_numbers_are_uniform():
    u = uniforms(200_000)
    standard_error = np.sqrt(1 / 12 / u.size)
    assert abs(u.mean() - 0.5) < 5 * standard_error
    assert abs(u.var() - 1 / 12) < 5 * np.sqrt(1 / 180 / u.size)
    counts, _ = np.histogram(u, bins=100, range=(0, 1))
    chi2 = ((counts - u.size / 100) ** 2 / (u.size / 100)).sum()
    assert chi2 < 160  # 99 degrees of freedom: this is beyond the 99.99th percentile
    # Neighbouring numbers are not correlated.
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 5 / np.sqrt(u.size)


def dirichlet_draws(alphas: np.ndarray, n: int, seed: int = 11) -> np.ndarray:
    """n Dirichlet(alphas) weight vectors from the kernel (one service whose total is 1)."""
    pounds = np.empty((alphas.size, n))
    draws.draw_kernel(
        seed, 0, np.array([1.0]), alphas[None, :], np.ones((alphas.size, 2)), 0.0, pounds, np.empty((0, 0, 0))
    )
    return pounds.T


@pytest.mark.parametrize(
    "alphas",
    [
        np.array([200 * 0.5, 200 * 0.3, 200 * 0.2]),
        np.array([0.4, 2.5, 1.0, 0.05]),
        np.array([3000.0, 1.0]),
        np.array([0.02, 0.01]),
    ],
    ids=["concentrated", "shapes-below-1", "lopsided", "tiny-shapes"],
)
def test_dirichlet_weights_have_numpys_distribution(alphas):
    n = 100_000
    ours = dirichlet_draws(alphas, n)
    np.testing.assert_allclose(ours.sum(axis=1), 1.0, rtol=1e-12)
    numpys = np.random.default_rng(5).dirichlet(alphas, size=n)
    total = alphas.sum()
    mean = alphas / total
    variance = alphas * (total - alphas) / (total**2 * (total + 1))
    # Means within 5 standard errors of the Dirichlet's own, and of NumPy's sample.
    assert (np.abs(ours.mean(axis=0) - mean) < 5 * np.sqrt(variance / n)).all()
    assert (np.abs(ours.mean(axis=0) - numpys.mean(axis=0)) < 5 * np.sqrt(2 * variance / n)).all()
    # Variances: the sample variance's standard error is about variance x sqrt(2 / n) for
    # shapes like these (a little more for skewed ones, hence 8).
    assert (np.abs(ours.var(axis=0) / variance - 1) < 8 * np.sqrt(2 / n) + 0.01).all()
    assert (np.abs(ours.var(axis=0) / numpys.var(axis=0) - 1) < 8 * np.sqrt(4 / n) + 0.01).all()


def test_tiny_shapes_never_lose_a_services_money():
    # A concentration of 0.001 gives shapes near 0.0005, whose gamma numbers are often below
    # the smallest double: as logarithms, every row still shares out the whole total.
    alphas = 0.001 * np.array([0.5, 0.3, 0.2])
    weights = dirichlet_draws(alphas, 20_000)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-12)
    # Nearly all the weight falls on one indicator, each as often as its share says.
    assert (weights.max(axis=1) > 0.999).mean() > 0.99
    share_largest = np.bincount(weights.argmax(axis=1), minlength=3) / weights.shape[0]
    assert np.abs(share_largest - np.array([0.5, 0.3, 0.2])).max() < 0.02


def test_draws_do_not_depend_on_chunks_or_threads():
    dataset = load_dataset()
    threads = numba.get_num_threads()
    results = []
    for chunk, count in ((4096, threads), (1000, 1), (65_536, threads)):
        numba.set_num_threads(count)
        try:
            results.append(montecarlo(dataset, 9000, seed=3, chunk=chunk, indicator_noise=2.0))
        finally:
            numba.set_num_threads(threads)
    first = results[0].summary
    for other in (r.summary for r in results[1:]):
        np.testing.assert_array_equal(first.histogram, other.histogram)
        np.testing.assert_array_equal(first.lows, other.lows)
        np.testing.assert_array_equal(first.on_floor, other.on_floor)
        np.testing.assert_allclose(first.sums, other.sums, rtol=1e-12)


def test_a_seed_beyond_64_bits_is_refused_and_the_largest_runs():
    from click.testing import CliRunner

    from dsg.cli import main

    too_large = CliRunner().invoke(main, ["montecarlo", "--samples", "100", "--seed", str(2**64)])
    assert too_large.exit_code == 2
    assert f"--seed: a seed of {2**64}; expected at most {2**63 - 1}" in too_large.output
    largest = CliRunner().invoke(main, ["montecarlo", "--samples", "100", "--seed", str(2**63 - 1)])
    assert largest.exit_code == 0, largest.output
