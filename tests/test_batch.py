"""The batch engine against the NumPy references, thread-independence, and the robustness tools."""

import numba
import numpy as np
import polars as pl
import pytest

from dsg import load_dataset, settle
from dsg.analysis.robustness import goalseek, montecarlo, sweep
from dsg.errors import InputError
from dsg.formula import batch as batches
from dsg.formula import kernels
from dsg.formula.arrays import to_inputs
from dsg.formula.reference import reference_batch, reference_settlement
from dsg.formula.settle import settle_inputs
from dsg.formula.synthetic import write_synthetic_dataset


@pytest.fixture(scope="module")
def inputs():
    return to_inputs(load_dataset())


def random_batch(inputs, size, seed=0, per_scenario_shares=False):
    rng = np.random.default_rng(seed)
    pounds = inputs.indicator_pounds * rng.uniform(0.8, 1.2, size=(size, len(inputs.indicators)))
    floor = np.where(rng.random(size) < 0.2, np.nan, rng.uniform(-1, 6, size))
    cap = np.where(rng.random(size) < 0.7, np.nan, np.nan_to_num(floor, nan=0.0) + rng.uniform(0.5, 8, size))
    shares = inputs.shares
    if per_scenario_shares:
        noisy = inputs.shares[None] * rng.uniform(0.9, 1.1, size=(size, *inputs.shares.shape))
        shares = noisy / noisy.sum(axis=2, keepdims=True)
    return batches.repeat(
        inputs,
        size,
        shares=shares,
        indicator_pounds=pounds,
        aef_total=inputs.aef_total * rng.uniform(0.95, 1.05, size),
        floor_percent=floor,
        cap_percent=cap,
        self_funded=rng.random(size) < 0.3,
    )


@pytest.mark.parametrize("per_scenario_shares", [False, True])
def test_settle_many_matches_the_numpy_reference(inputs, per_scenario_shares):
    batch = random_batch(inputs, 3000, seed=1, per_scenario_shares=per_scenario_shares)
    got = batches.settle_many(inputs, batch)
    expected = reference_batch(inputs, batch)
    np.testing.assert_array_equal(got["status"], expected["status"])
    ok = got["status"] == kernels.OK
    assert ok.sum() > 2000 and (~ok).sum() > 0
    for name in ("aef", "floor_topup", "pct_change"):
        np.testing.assert_allclose(got[name][ok], expected[name][ok], rtol=1e-11, atol=1e-4, err_msg=name)


@pytest.mark.parametrize("per_scenario_shares", [False, True])
def test_batch_aefs_are_the_single_settlements_to_the_last_bit(inputs, per_scenario_shares):
    """Vectorised across scenarios, the kernel does each scenario's arithmetic in the same
    order as one settlement: external, self-funded and absent floors, caps, a given notional
    Band D, settled and refused scenarios alike."""
    batch = random_batch(inputs, 700, seed=11, per_scenario_shares=per_scenario_shares)
    band_d = np.where(np.random.default_rng(12).random(batch.size) < 0.25, 1100.0, np.nan)
    batch = batches.Batch(
        batch.shares,
        batch.indicator_pounds,
        batch.aef_total,
        band_d,
        *(getattr(batch, name) for name in batches.BATCH_FIELDS[4:]),
    )
    got = batches.settle_many(inputs, batch)
    assert {int(s) for s in got["status"]} >= {kernels.OK, kernels.FLOOR_NOT_SELF_FUNDABLE}
    for j in range(batch.size):
        out, scalars = settle_inputs(one_of(inputs, batch, j))
        assert got["status"][j] == scalars[kernels.STATUS]
        assert np.array_equal(got["aef"][j], out[kernels.AEF]), j
        assert np.array_equal(got["floor_topup"][j], out[kernels.FLOOR_TOPUP]), j
        assert np.array_equal(got["pct_change"][j], out[kernels.PCT_CHANGE]), j


@pytest.mark.parametrize(("indicators", "used"), [(2, 2), (3, 3), (6, 6), (9, 9), (13, 11)])
def test_any_number_of_indicators_gives_the_single_settlements_to_the_last_bit(tmp_path, indicators, used):
    """The kernel adds four indicators per pass over the lanes and the rest one by one; with
    any number of them, in either pass, every figure is one settlement's exactly."""
    synthetic = to_inputs(load_dataset(write_synthetic_dataset(tmp_path, 9, indicators, 3, seed=indicators)))
    assert len(synthetic.indicators) == used  # what the services weight: groups of 4 and a rest
    batch = random_batch(synthetic, 60, seed=indicators)
    external = batches.repeat(
        synthetic,
        60,
        indicator_pounds=batch.indicator_pounds,
        aef_total=batch.aef_total,
        floor_percent=np.nan_to_num(batch.floor_percent, nan=2.8),
    )
    got = batches.settle_many(synthetic, batch)
    for j in range(batch.size):
        out, scalars = settle_inputs(one_of(synthetic, batch, j))
        assert got["status"][j] == scalars[kernels.STATUS]
        assert np.array_equal(got["aef"][j], out[kernels.AEF]), j
        summary = batches.summarise(synthetic, [external.part(j, j + 1)])
        out, scalars = settle_inputs(one_of(synthetic, external, j))
        if scalars[kernels.STATUS] == kernels.OK:
            assert np.array_equal(summary.lows, out[kernels.PCT_CHANGE]), j


def one_of(inputs, batch, j):
    """Scenario ``j`` of a batch as the inputs of one settlement."""
    return inputs.__class__(
        **{
            **inputs.__dict__,
            "shares": batch.shares[j] if batch.shares.ndim == 3 else batch.shares,
            "service_totals": np.array([1.0]),
            "weights": batch.indicator_pounds[j][None, :],
            "aef_total": batch.aef_total[j],
            "notional_band_d": batch.notional_band_d[j],
            "floor_percent": batch.floor_percent[j],
            "cap_percent": batch.cap_percent[j],
            "self_funded": bool(batch.self_funded[j]),
        }
    )


def test_the_branch_free_pass_is_the_single_settlement_to_the_last_bit(inputs):
    """Summaries of external floors with every scenario settled take the kernel's branch-free
    pass (settle_many never does): a batch of one scenario has its % change as lowest and
    highest, which must be one settlement's exactly."""
    rng = np.random.default_rng(21)
    for j in range(150):
        floor = rng.uniform(-1, 6) if j % 5 else np.nan
        cap = np.nan if j % 3 else rng.uniform(6, 9)
        pounds = inputs.indicator_pounds * rng.uniform(0.8, 1.2, len(inputs.indicators))
        aef_total = inputs.aef_total * rng.uniform(0.95, 1.05)
        one = batches.repeat(
            inputs,
            1,
            indicator_pounds=pounds[None, :],
            aef_total=np.array([aef_total]),
            floor_percent=np.array([floor]),
            cap_percent=np.array([cap]),
        )
        summary = batches.summarise(inputs, [one])
        single = inputs.__class__(
            **{
                **inputs.__dict__,
                "service_totals": np.array([1.0]),
                "weights": pounds[None, :],
                "aef_total": aef_total,
                "floor_percent": floor,
                "cap_percent": cap,
            }
        )
        out, scalars = settle_inputs(single)
        if scalars[kernels.STATUS] != kernels.OK:  # a notional Band D below 0: left out
            assert summary.failed == 1 and np.isinf(summary.lows).all()
            continue
        assert np.array_equal(summary.lows, out[kernels.PCT_CHANGE]), j
        assert np.array_equal(summary.highs, out[kernels.PCT_CHANGE]), j
        assert np.array_equal(summary.on_floor, (out[kernels.FLOOR_TOPUP] >= 0.5).astype(np.int64)), j


def test_histogram_counts_move_to_64_bits_before_they_could_overflow(inputs, monkeypatch):
    # A council on the floor puts about half its samples in one bin; a run may have 10^10.
    summary = batches.Summary(len(inputs.councils))
    summary.slot_histogram[0, 0, 7000] = 2**31 - 10
    summary.unflushed = 2**31 - 10  # as if that many scenarios had been settled
    batches.summarise_chunk(inputs, batches.repeat(inputs, 100), summary)
    assert summary.histogram[0, 7000] == 2**31 - 10
    assert summary.histogram.sum(axis=1)[0] == 2**31 - 10 + 100
    # Flushing more often changes nothing in the counts.
    batch = random_batch(inputs, 3000, seed=8)
    whole = batches.summarise(inputs, [batch.part(0, 1000), batch.part(1000, 3000)])
    monkeypatch.setattr(batches, "FLUSH_AT", 1500)
    flushed = batches.summarise(inputs, [batch.part(0, 1000), batch.part(1000, 3000)])
    assert flushed.histogram_total.sum() > 0
    np.testing.assert_array_equal(whole.histogram, flushed.histogram)


def test_numpy_batch_reference_matches_the_single_reference(inputs):
    batch = random_batch(inputs, 50, seed=2)
    expected = reference_batch(inputs, batch)
    for j in range(batch.size):
        single = reference_settlement(
            inputs.__class__(
                **{
                    **inputs.__dict__,
                    "service_totals": np.array([1.0]),
                    "weights": batch.indicator_pounds[j][None, :],
                    "aef_total": batch.aef_total[j],
                    "floor_percent": batch.floor_percent[j],
                    "cap_percent": batch.cap_percent[j],
                    "self_funded": bool(batch.self_funded[j]),
                }
            )
        )
        if single["status"] == kernels.OK:
            np.testing.assert_allclose(expected["aef"][j], single["aef"], rtol=1e-12)


def test_summaries_match_the_full_matrix(inputs):
    batch = random_batch(inputs, 5000, seed=3)
    matrix = batches.settle_many(inputs, batch)
    ok = matrix["status"] == kernels.OK
    summary = batches.summarise(inputs, [batch.part(0, 2000), batch.part(2000, 5000)])
    pct = matrix["pct_change"][ok]
    assert summary.count == 5000 and summary.failed == int((~ok).sum())
    np.testing.assert_allclose(summary.mean, pct.mean(axis=0), rtol=1e-12)
    np.testing.assert_array_equal(summary.lows, pct.min(axis=0))
    np.testing.assert_array_equal(summary.highs, pct.max(axis=0))
    np.testing.assert_array_equal(summary.on_floor, (matrix["floor_topup"][ok] >= 0.5).sum(axis=0))
    for p in (5, 50, 95):
        # The histogram gives each percentile as the lower edge of its bin, rounded to the
        # bin width: at or below the exact value, by less than one bin.
        exact = np.percentile(pct, p, axis=0, method="inverted_cdf")
        edge = summary.percentile(p)
        assert (edge <= exact + batches.HIST_NUDGE).all() and (exact - edge < batches.HIST_WIDTH).all()
        np.testing.assert_array_equal(edge, np.round(edge, 2))


def test_a_council_held_at_the_floor_is_reported_at_the_floor(inputs):
    """Every scenario puts five councils exactly on a 3.5 % floor, give or take float noise:
    their percentiles are 3.5, not 3.49 or 3.5049999999999997."""
    batch = batches.repeat(inputs, 400, floor_percent=np.full(400, 3.5))
    matrix = batches.settle_many(inputs, batch)
    held = (matrix["floor_topup"] >= 0.5).all(axis=0)
    assert held.any()
    summary = batches.summarise(inputs, [batch])
    for p in (5, 50, 95):
        assert (summary.percentile(p)[held] == 3.5).all()
    assert held.sum() == 5


def test_results_do_not_depend_on_the_number_of_threads(inputs):
    batch = random_batch(inputs, 20_000, seed=4)
    threads = numba.get_num_threads()
    results = []
    for count in sorted({1, threads}):
        numba.set_num_threads(count)
        try:
            summary = batches.summarise(inputs, [batch.part(0, 7000), batch.part(7000, 20_000)])
        finally:
            numba.set_num_threads(threads)
        results.append(summary)
    first = results[0]
    for other in results[1:]:
        assert np.array_equal(first.sums, other.sums)
        assert np.array_equal(first.histogram, other.histogram)


def test_montecarlo_is_reproducible_and_centred(inputs):
    dataset = load_dataset()
    one = montecarlo(dataset, 20_000, seed=5, chunk=4096)
    two = montecarlo(dataset, 20_000, seed=5, chunk=4096)
    assert np.array_equal(one.summary.sums, two.summary.sums)
    other = montecarlo(dataset, 20_000, seed=6, chunk=4096)
    assert not np.array_equal(one.summary.sums, other.summary.sums)
    # A very high concentration keeps the weights at the formula's own: the central figure.
    tight = montecarlo(dataset, 2_000, seed=1, concentration=1e9)
    np.testing.assert_allclose(tight.summary.mean, tight.central, atol=1e-3)
    # Everyone is at or above the 2.8 % floor in every sample.
    assert (one.summary.lows >= 2.8 - 1e-9).all()
    noisy = montecarlo(dataset, 5_000, seed=1, indicator_noise=5.0)
    assert (noisy.summary.highs - noisy.summary.lows).max() > 0


def test_sweep_rescales_the_other_weights():
    dataset = load_dataset()
    result = sweep(dataset, "Personal Social Services", "lsoas_most_deprived_20pct", 0.0, 0.5, 6)
    assert result.values.tolist() == pytest.approx([0, 0.1, 0.2, 0.3, 0.4, 0.5])
    # At 0.25 (the dataset's own weight) the sweep would give the default; check a step by
    # settling the same weights directly: population 0.6 x 0.7/0.75, 50 % 0.15 x 0.7/0.75.
    scale = (1 - 0.3) / (1 - 0.25)
    weights = dataset.weights.with_columns(
        pl.when(
            (pl.col("service") == "Personal Social Services") & (pl.col("indicator") == "lsoas_most_deprived_20pct")
        )
        .then(0.3)
        .when(pl.col("service") == "Personal Social Services")
        .then(pl.col("weight") * scale)
        .otherwise(pl.col("weight"))
        .alias("weight")
    )
    direct = settle(dataset.with_changes(weights=weights)).councils["aef"].to_numpy()
    np.testing.assert_allclose(result.aef[3], direct, rtol=1e-12)
    with pytest.raises(InputError):
        sweep(dataset, "Nope", "population", 0, 1, 3)


def test_goalseek_finds_the_floor_that_a_budget_buys():
    dataset = load_dataset()
    result = goalseek(dataset, "floor", 0.0, 6.0, "floor-cost", 50_000_000)
    assert result.metric <= 50_000_000
    assert result.metric == pytest.approx(50_000_000, abs=10)
    from dataclasses import replace

    higher = settle(dataset.with_changes(settlement=replace(dataset.settlement, floor_percent=result.value + 1e-5)))
    assert higher.floor_cost > 50_000_000
    aef = goalseek(
        dataset,
        "weight:Personal Social Services:lsoas_most_deprived_20pct",
        0.0,
        0.9,
        "council-aef",
        140_000_000,
        council="Merthyr Tydfil",
    )
    assert aef.metric == pytest.approx(140_000_000, abs=1)
    count = goalseek(dataset, "floor", 0.0, 6.0, "on-floor", 3)
    assert count.metric <= 3
    with pytest.raises(InputError) as caught:
        goalseek(dataset, "floor", 0.0, 1.0, "floor-cost", -5)
    assert caught.value.problems[0].code == "target_not_in_range"
