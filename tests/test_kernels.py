"""One settlement and the numba batch kernel against the plain NumPy reference, on random settlements."""

import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from dsg.formula import batch as batches
from dsg.formula import kernels
from dsg.formula.arrays import Inputs
from dsg.formula.reference import reference_settlement
from dsg.formula.settle import settle_inputs

NAN = float("nan")


def random_inputs(rng: np.random.Generator, n_councils: int = 22, n_indicators: int = 5, n_services: int = 4) -> Inputs:
    values = rng.uniform(0.1, 100.0, size=(n_indicators, n_councils))
    weights = rng.dirichlet(np.ones(n_indicators), size=n_services)
    service_totals = rng.uniform(1e8, 3e9, size=n_services)
    taxbase = rng.uniform(2e4, 2e5, size=n_councils)
    ssa_scale = service_totals.sum() / n_councils
    base = rng.uniform(0.5, 0.9, size=n_councils) * ssa_scale
    mode = rng.integers(0, 4)
    floor = rng.uniform(-2.0, 6.0) if mode != 0 else NAN
    cap = floor + rng.uniform(0.5, 10.0) if mode == 2 else NAN
    band_d_given = rng.random() < 0.3
    return Inputs(
        councils=tuple(f"W{i}" for i in range(n_councils)),
        indicators=tuple(f"k{k}" for k in range(n_indicators)),
        services=tuple(f"s{s}" for s in range(n_services)),
        shares=values / values.sum(axis=1, keepdims=True),
        weights=weights,
        service_totals=service_totals,
        fixed=rng.normal(0, 1e6, size=n_councils),
        taxbase=taxbase,
        base=base,
        ndr_share=(p := rng.uniform(1, 10, n_councils)) / p.sum(),
        aef_total=NAN if band_d_given else 0.75 * service_totals.sum(),
        notional_band_d=rng.uniform(500, 2000) if band_d_given else NAN,
        ndr_pool=rng.uniform(0, 1.5e9),
        floor_percent=floor,
        cap_percent=cap,
        self_funded=bool(mode == 3 or (mode == 2 and rng.random() < 0.5)),
    )


def assert_same(inputs: Inputs) -> None:
    out, scalars = settle_inputs(inputs)
    expected = reference_settlement(inputs)
    assert int(scalars[kernels.STATUS]) == expected["status"]
    if expected["status"] != kernels.OK:
        return
    for index, name in enumerate(kernels.FIELDS):
        np.testing.assert_allclose(out[index], expected[name], rtol=1e-12, atol=1e-4, err_msg=name)
    for name in ("notional_band_d", "aef_total", "floor_cost", "self_funding_rate"):
        assert scalars[kernels.SCALAR[name]] == pytest.approx(expected[name], rel=1e-12, abs=1e-4), name


@pytest.mark.parametrize("seed", range(200))
def test_kernel_matches_reference(seed):
    assert_same(random_inputs(np.random.default_rng(seed)))


def test_reference_computes_shares_from_raw_values():
    rng = np.random.default_rng(7)
    inputs = random_inputs(rng)
    raw = inputs.shares * rng.uniform(1, 1000, size=(inputs.shares.shape[0], 1))
    from_raw = reference_settlement(inputs, indicator_values=raw)
    from_shares = reference_settlement(inputs)
    np.testing.assert_allclose(from_raw["aef"], from_shares["aef"], rtol=1e-12)


def test_all_modes_are_exercised():
    modes = set()
    for seed in range(200):
        inputs = random_inputs(np.random.default_rng(seed))
        _, scalars = settle_inputs(inputs)
        modes.add(
            (
                np.isnan(inputs.floor_percent),
                np.isnan(inputs.cap_percent),
                inputs.self_funded,
                int(scalars[kernels.STATUS]),
            )
        )
    statuses = {m[3] for m in modes}
    assert {kernels.OK, kernels.FLOOR_NOT_SELF_FUNDABLE} <= statuses
    assert len(modes) >= 5


def test_batch_is_the_single_kernel_in_a_loop():
    rng = np.random.default_rng(11)
    base = random_inputs(rng)
    scenarios = [
        replace(base, service_totals=base.service_totals * f, floor_percent=fl)
        for f, fl in [(1.0, 1.0), (1.1, 3.0), (0.9, NAN)]
    ]
    batch = batches.repeat(
        base,
        len(scenarios),
        indicator_pounds=np.array([s.indicator_pounds for s in scenarios]),
        floor_percent=np.array([s.floor_percent for s in scenarios]),
    )
    many = batches.settle_many(base, batch)
    for j, scenario in enumerate(scenarios):
        single, single_scalars = settle_inputs(scenario)
        for name in ("aef", "floor_topup", "pct_change"):
            np.testing.assert_array_equal(many[name][j], single[kernels.FIELD[name]])
        assert many["status"][j] == single_scalars[kernels.STATUS]


def test_the_batch_kernel_is_compiled_and_cached():
    if os.environ.get("DSG_DISABLE_JIT", "") not in ("", "0"):
        pytest.skip("JIT disabled for this run")
    inputs = random_inputs(np.random.default_rng(4))
    batches.settle_many(inputs, batches.repeat(inputs, 3))
    assert batches.settle_slot.signatures
    assert batches.settle_slot._cache.__class__.__name__ != "NullCache"


def test_one_settlement_loads_no_numba():
    """run, compare and explain settle in NumPy: numba's import is not paid for one settlement."""
    script = (
        "import sys\nfrom dsg.pipeline import run\nrun()\nassert 'numba' not in sys.modules, 'numba was imported'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=os.path.dirname(os.path.dirname(__file__)))


def test_same_results_without_jit(tmp_path):
    # The batch kernel as plain Python (DSG_DISABLE_JIT=1) gives the figures the compiled one does.
    script = (
        "import numpy as np, sys\n"
        "from tests.test_kernels import random_inputs\n"
        "from dsg.formula import batch\n"
        "assert not hasattr(batch.settle_slot, 'signatures')\n"
        "inputs = random_inputs(np.random.default_rng(3))\n"
        "result = batch.settle_many(inputs, batch.repeat(inputs, 40, floor_percent=np.linspace(-1, 5, 40)))\n"
        "np.save(sys.argv[1], result['aef'])\n"
    )
    target = tmp_path / "nojit.npy"
    environment = {**os.environ, "DSG_DISABLE_JIT": "1"}
    subprocess.run(
        [sys.executable, "-c", script, str(target)],
        check=True,
        env=environment,
        cwd=os.path.dirname(os.path.dirname(__file__)),
    )
    inputs = random_inputs(np.random.default_rng(3))
    compiled = batches.settle_many(inputs, batches.repeat(inputs, 40, floor_percent=np.linspace(-1, 5, 40)))["aef"]
    np.testing.assert_array_equal(np.load(target), compiled)
