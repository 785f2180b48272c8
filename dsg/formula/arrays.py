"""The plain float64 arrays the settlement kernels work on, built once from a Dataset."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from dsg.formula.dataset import Dataset

NO_VALUE = math.nan  # an absent optional parameter (no floor, no cap, no notional Band D)


@dataclass(frozen=True)
class Inputs:
    """One settlement's inputs as arrays; councils are columns, in council order.

    ``shares[k, i]`` is council i's share of indicator k's Wales total (SPEC §3.1),
    ``weights[s, k]`` the weight of indicator k in service s, ``service_totals[s]`` A_s.
    Optional parameters that are absent are NaN.
    """

    councils: tuple[str, ...]
    indicators: tuple[str, ...]
    services: tuple[str, ...]
    shares: np.ndarray
    weights: np.ndarray
    service_totals: np.ndarray
    fixed: np.ndarray
    taxbase: np.ndarray
    base: np.ndarray
    ndr_share: np.ndarray
    aef_total: float
    notional_band_d: float
    ndr_pool: float
    floor_percent: float
    cap_percent: float
    self_funded: bool

    @property
    def indicator_pounds(self) -> np.ndarray:
        """£ shared by each indicator across all services: sum_s A_s w[s,k].

        SSA is then ``indicator_pounds @ shares + fixed``; the kernels use this form
        because it is one vector per scenario however many services there are.
        """
        return self.service_totals @ self.weights


def indicator_values(dataset: Dataset, indicator: str) -> np.ndarray:
    """One indicator's values in council order."""
    values = dict(dataset.indicators.filter(pl.col("indicator") == indicator).select("ons_code", "value").iter_rows())
    return np.array([values[code] for code in dataset.council_codes], dtype=np.float64)


def population_values(dataset: Dataset) -> np.ndarray | None:
    """The ``population_indicator``'s values in council order, or None when the dataset names
    none (then no per-head figure is shown)."""
    indicator = dataset.settlement.population_indicator
    return indicator_values(dataset, indicator) if indicator is not None else None


def unit_counts(dataset: Dataset) -> dict[str, np.ndarray]:
    """What a per-unit figure divides by, council by council, by the suffix of its column:
    residents (``per_head``, when the dataset names a population indicator) and Band D
    equivalent dwellings (``per_band_d``, the tax base)."""
    counts = {}
    heads = population_values(dataset)
    if heads is not None:
        counts["per_head"] = heads
    counts["per_band_d"] = indicator_values(dataset, dataset.settlement.taxbase_indicator)
    return counts


def per_unit(amounts, units) -> np.ndarray:
    """``amounts`` per person or per Band D dwelling (``units``), NaN where there is less than
    one unit or none is known: a tiny denominator gives a huge figure, not a useful one."""
    amounts = np.asarray(amounts, dtype=np.float64)
    if units is None:
        return np.full(amounts.shape, np.nan)
    units = np.asarray(units, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(units >= 1, amounts / units, np.nan)


def shares_of(values: np.ndarray) -> np.ndarray:
    return values / values.sum()


def to_inputs(
    dataset: Dataset, indicators: tuple[str, ...] | None = None, services: tuple[str, ...] | None = None
) -> Inputs:
    """The arrays of one settlement.

    ``indicators`` and ``services`` fix the axes (by default, the indicators the weights use,
    in order of first use, and the dataset's services), so that two scenarios of one dataset
    can be lined up term by term; a service the dataset lacks has a total of 0.
    """
    totals = dict(dataset.services.select("service", "total").iter_rows())
    services = tuple(dataset.services["service"].to_list()) if services is None else services
    if indicators is None:
        indicators = tuple(dict.fromkeys(dataset.weights["indicator"].to_list()))
    weights = np.zeros((len(services), len(indicators)))
    position = {name: k for k, name in enumerate(indicators)}
    service_row = {name: s for s, name in enumerate(services)}
    for service, indicator, weight in dataset.weights.select("service", "indicator", "weight").iter_rows():
        if service in service_row:
            weights[service_row[service], position[indicator]] = weight
    settlement = dataset.settlement

    def optional(value):
        return NO_VALUE if value is None else float(value)

    return Inputs(
        councils=tuple(dataset.council_codes),
        indicators=indicators,
        services=services,
        shares=np.array([shares_of(indicator_values(dataset, k)) for k in indicators]).reshape(len(indicators), -1),
        weights=weights,
        service_totals=np.array([totals.get(service, 0.0) for service in services], dtype=np.float64),
        fixed=dataset.fixed["amount"].to_numpy().astype(np.float64),
        taxbase=indicator_values(dataset, settlement.taxbase_indicator),
        base=dataset.base["base_aef"].to_numpy().astype(np.float64),
        ndr_share=shares_of(indicator_values(dataset, settlement.ndr_indicator)),
        aef_total=optional(settlement.aef_total),
        notional_band_d=optional(settlement.notional_band_d),
        ndr_pool=float(settlement.ndr_pool),
        floor_percent=optional(settlement.floor_percent),
        cap_percent=optional(settlement.cap_percent),
        self_funded=settlement.floor_funding == "self",
    )


def service_ibas(inputs: Inputs) -> np.ndarray:
    """IBA of each service for each council, shape (services, councils) (SPEC §3.2)."""
    return inputs.service_totals[:, None] * (inputs.weights @ inputs.shares)
