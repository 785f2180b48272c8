"""Synthetic datasets of any size, for benchmarks and tests of scale.

Wales has 22 councils and a few dozen indicators; a benchmark that should show how the
engine scales needs 2,000 councils or 48 indicators as well. :func:`write_synthetic_dataset`
writes a complete dataset folder (SPEC §2) of the size asked for, drawn from a seeded
generator, and it loads and validates like any other: nothing about it is special to the
engine. The figures are plausible in shape (populations spread like those of councils, AEF
a few per cent above last year's, some councils on the floor), not a model of any real place.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dsg.formula import kernels
from dsg.formula.arrays import to_inputs
from dsg.formula.dataset import load_dataset
from dsg.formula.settle import settle_inputs

# A Wales-sized settlement per 22 councils, scaled with the number of councils.
AEF_PER_COUNCIL = 6.13e9 / 22
SSA_PER_COUNCIL = 7.7e9 / 22


def write_synthetic_dataset(
    directory: str | Path,
    councils: int = 22,
    indicators: int = 4,
    services: int = 4,
    seed: int = 0,
    floor_funding: str = "external",
) -> Path:
    """Write a dataset folder with ``councils`` councils, ``indicators`` indicators besides
    population and tax base, and ``services`` services each using two or more indicators."""
    if councils < 2 or indicators < 2 or services < 1:
        raise ValueError("a synthetic dataset needs at least 2 councils, 2 indicators and 1 service")
    rng = np.random.default_rng(seed)
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    codes = [f"S{i:08d}" for i in range(councils)]
    population = np.round(rng.lognormal(np.log(130_000), 0.6, councils))
    taxbase = np.round(population * rng.uniform(0.35, 0.5, councils), 2)
    names = [f"ind_{k}" for k in range(indicators)]
    values = population[None, :] * rng.lognormal(0.0, 0.4, (indicators, councils))

    lines = ["ons_code,name_en,name_cy"] + [f"{code},Council {i},Cyngor {i}" for i, code in enumerate(codes)]
    (folder / "councils.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    lines = ["ons_code,indicator,value"]
    for i, code in enumerate(codes):
        lines.append(f"{code},population,{population[i]:.0f}")
        lines.append(f"{code},taxbase,{taxbase[i]:.2f}")
        lines += [f"{code},{name},{values[k, i]:.3f}" for k, name in enumerate(names)]
    (folder / "indicators.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    totals = rng.dirichlet(np.full(services, 2.0)) * SSA_PER_COUNCIL * councils
    lines = ["service,total,name_cy"] + [f"Service {s},{totals[s]:.2f},Gwasanaeth {s}" for s in range(services)]
    (folder / "services.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    lines = ["service,indicator,weight"]
    for s in range(services):
        used = rng.choice(indicators, size=int(rng.integers(2, indicators + 1)), replace=False)
        weights = np.round(rng.dirichlet(np.full(len(used), 3.0)), 6)
        weights[-1] = round(1.0 - weights[:-1].sum(), 6)  # the weights of a service add up to 1
        lines += [f"Service {s},{names[k]},{w:.6f}" for k, w in zip(sorted(used), weights)]
    (folder / "weights.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    # Last year's AEF from this year's formula: a rise of 1.5-6.5 % per council (Wales has
    # seen 2.8-5.6 % in 2025-26), so that a 2.8 % floor catches some councils and not
    # others. A provisional base (the population share) is written first, for the dataset to
    # load and settle.
    aef_total = AEF_PER_COUNCIL * councils
    base = aef_total * population / population.sum()
    write_base(folder, codes, base)
    (folder / "dataset.toml").write_text(
        f"""name = "synthetic-{councils}x{indicators}x{services}-{seed}"
year = "2025-26"
title_en = "Synthetic settlement: {councils} councils, {indicators} indicators, {services} services"
title_cy = "Setliad synthetig: {councils} cyngor, {indicators} dangosydd, {services} gwasanaeth"

[settlement]
aef_total = {aef_total:.2f}
ndr_pool = {0.18 * aef_total:.2f}
ndr_indicator = "population"
taxbase_indicator = "taxbase"
population_indicator = "population"
floor_percent = 2.8
floor_funding = "{floor_funding}"
""",
        encoding="utf-8",
    )
    formula = settle_inputs(to_inputs(load_dataset(folder)))[0][kernels.AEF_FORMULA]
    write_base(folder, codes, formula / (1.0 + rng.uniform(0.015, 0.065, councils)))
    return folder


def write_base(folder: Path, codes: list[str], base: np.ndarray) -> None:
    lines = ["ons_code,base_aef"] + [f"{code},{base[i]:.2f}" for i, code in enumerate(codes)]
    (folder / "base.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
