"""Whole pounds that add up: the one rounding of every figure dsg shows or writes.

A finance officer checks first that the council rows add up to the Wales row. Rounding
each figure on its own breaks that by a pound or two; largest remainder never does.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import polars as pl


def round_half_up(value: float, unit: float = 1.0) -> float:
    """``value`` to the nearest multiple of ``unit``, halves away from zero (as Excel's ROUND)."""
    scaled = abs(value) / unit
    whole = math.floor(scaled)
    # Compare the fraction with 0.5 rather than add 0.5: floor(x + 0.5) rounds
    # 0.49999999999999994 up.
    if scaled - whole >= 0.5:
        whole += 1
    return math.copysign(whole, value) * unit


# Whole units must fit an int64 (exports write integers): a value or a total of LARGEST or
# more is refused, never wrapped round to -9223372036854775808. Checked inputs and settled
# figures (dsg.formula.params.RESULT_LIMIT, 1e16) stay far below it.
LARGEST = 2.0**62
# Below this a float holds every whole number, so a float sum of whole numbers is exact.
EXACT = 2.0**53


class RoundingOverflow(ValueError):
    """Figures too large (or not finite) to round to whole units that fit an int64."""


def rounded_total(scaled: np.ndarray) -> int:
    """The sum of ``scaled`` (values in units) rounded half away from zero, as an exact integer.

    Raises :class:`RoundingOverflow` when a value or the sum is not finite or is LARGEST or more.
    """
    with np.errstate(invalid="ignore"):
        fits = bool(np.all(np.abs(scaled) < LARGEST))
    total = math.fsum(scaled.tolist()) if fits else math.inf
    if not abs(total) < LARGEST:
        raise RoundingOverflow(
            f"cannot round to whole units: a value or the total is not finite or {LARGEST:.3g} or more"
        )
    if abs(total) < EXACT:
        return int(round_half_up(total))
    # Past 2**53 the float sum is not exact to the unit: add the values as fractions.
    exact = sum((Fraction(v) for v in scaled.tolist()), Fraction(0))
    whole = math.floor(abs(exact))
    whole += abs(exact) - whole >= Fraction(1, 2)
    return whole if exact >= 0 else -whole


def whole_units(scaled: np.ndarray) -> np.ndarray:
    """Largest remainder on values in units, as int64 that add up exactly to
    :func:`rounded_total`: floors, then the missing units to the largest remainders."""
    total = rounded_total(scaled)
    floors = np.floor(scaled)
    whole = floors.astype(np.int64)
    missing = total - sum(whole.tolist())  # Python integers: exact at any size
    order = np.argsort(-(scaled - floors), kind="stable")
    whole[order[:missing]] += 1
    return whole


def largest_remainder(values, unit: float = 1.0) -> np.ndarray:
    """Round to multiples of ``unit`` so that the results add up to the rounded total.

    Each value is rounded down, then the units still missing from the rounded total go
    to the values with the largest remainders (ties to the earliest row, i.e. council
    order), so no figure moves by a full unit or more. Raises :class:`RoundingOverflow`
    rather than give a figure that would wrap round in an int64.
    """
    return whole_units(np.asarray(values, dtype=np.float64) / unit).astype(np.float64) * unit


def shared_out(values: np.ndarray, total: float) -> np.ndarray:
    """Whole numbers near ``values`` that add up to the whole number ``total`` (within one
    unit of the values' own sum): floors, then the missing units to the largest remainders."""
    floors = np.floor(values)
    remainders = values - floors
    missing = int(round(total - floors.sum()))
    order = np.argsort(-remainders, kind="stable")
    rounded = floors.copy()
    rounded[order[:missing]] += 1.0
    return rounded


def parts_of_rows(parts: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Each row of ``parts`` (rows x parts, e.g. a council's change by cause) in whole pounds
    adding up to that row's whole-pound total, so that the parts of a row add up to the
    penny in the exported table too (SPEC §7)."""
    rounded = np.zeros_like(parts)
    for row in range(parts.shape[0]):
        present = np.flatnonzero(parts[row] != 0)
        if present.size:
            rounded[row, present] = shared_out(parts[row, present], totals[row])
    return rounded


def whole_pounds(values) -> np.ndarray:
    """Largest-remainder whole pounds as integers, for exports (:class:`RoundingOverflow`
    for figures beyond an int64, which the checks on inputs and results never let through)."""
    return whole_units(np.asarray(values, dtype=np.float64))


def rounded_by_group(frame: pl.DataFrame, money, by=()) -> pl.DataFrame:
    """Money columns in whole pounds, by largest remainder within each group of ``by``
    (e.g. each scenario or year), so that each group's rows add up to its rounded total."""
    if frame.height == 0:
        return frame
    keys = [tuple(row) for row in frame.select(list(by)).iter_rows()] if by else [()] * frame.height
    groups: dict[tuple, list[int]] = {}
    for index, key in enumerate(keys):
        groups.setdefault(key, []).append(index)
    columns = []
    for column in money:
        values = frame[column].to_numpy().astype(np.float64)
        rounded = np.empty(values.shape, dtype=np.int64)
        for rows in groups.values():
            rounded[rows] = whole_pounds(values[rows])
        columns.append(pl.Series(column, rounded))
    return frame.with_columns(columns)
