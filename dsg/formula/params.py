"""Settlement parameters and every rule about them, in one place.

``[settlement]`` in dataset.toml, a scenario's ``[settlement]``, a ``[[years]]`` entry,
goal seek and sweeps all build their parameters through :func:`parse_settlement`, so a
floor above the cap or below -100 % is refused the same way wherever it is written.

Absent floor, cap or notional Band D is ``None`` here; inside the arrays it becomes NaN
(dsg.formula.arrays), and nowhere else. "On the floor" is :func:`on_floor`.

This module imports neither polars nor numba: a refusal of bad input should be quick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dsg.errors import Problem

FLOOR_FUNDING_MODES = ("external", "self")
SETTLEMENT_KEYS = (
    "aef_total",
    "notional_band_d",
    "ndr_pool",
    "ndr_indicator",
    "taxbase_indicator",
    "floor_percent",
    "floor_funding",
    "cap_percent",
    "population_indicator",
)
# Weights of a formula must sum to 1 within this (SPEC §6).
WEIGHT_TOLERANCE = 1e-9
# A scenario or a later year removes the dataset's floor or cap by writing this.
REMOVE = "none"
REMOVABLE = ("floor_percent", "cap_percent")
# A floor or cap below this would mean a negative AEF; -100 % is a floor of zero.
LOWEST_PERCENT = -100.0

# A council is "on the floor" when its top-up is at least this (£): below it, the top-up is
# float noise on an AEF that sits exactly at the floor. Every count, chart and flag uses it.
ON_FLOOR_POUNDS = 0.5
# A figure moves (a council gains or loses) when it changes by at least this (£).
CHANGE_POUNDS = 0.5


def on_floor(floor_topup):
    """Whether a top-up (a number or an array of them) puts a council on the floor."""
    return floor_topup >= ON_FLOOR_POUNDS


@dataclass(frozen=True)
class Settlement:
    """The ``[settlement]`` parameters; exactly one of aef_total / notional_band_d is set."""

    ndr_pool: float
    ndr_indicator: str
    taxbase_indicator: str
    aef_total: float | None = None
    notional_band_d: float | None = None
    floor_percent: float | None = None
    floor_funding: str = "external"
    cap_percent: float | None = None
    population_indicator: str | None = None

    @property
    def self_funded(self) -> bool:
        """A floor that councils above it pay for (SPEC §3.5 "self")."""
        return self.floor_funding == "self" and self.floor_percent is not None

    def floor_level(self, base: float) -> float | None:
        """The AEF the floor guarantees on a base (SPEC §3.5 lo_i), or None with no floor."""
        return None if self.floor_percent is None else base * (1.0 + self.floor_percent / 100.0)

    def as_dict(self) -> dict:
        """The parameters that are set, as they would be written in TOML."""
        return {k: getattr(self, k) for k in SETTLEMENT_KEYS if getattr(self, k) is not None}

    def indicators(self) -> dict[str, str]:
        """The indicators the parameters name, by key."""
        named = {"ndr_indicator": self.ndr_indicator, "taxbase_indicator": self.taxbase_indicator}
        if self.population_indicator is not None:
            named["population_indicator"] = self.population_indicator
        return named


# --------------------------------------------------------------------------- single values


def parse_number(text: str | None) -> float | None:
    """A finite float from a CSV cell, or None when the cell is not one."""
    if text is None:
        return None
    if "_" in text:  # Python reads 1_000 as 1000; a spreadsheet would not
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def check_number(
    value,
    problems: list[Problem],
    file: str,
    *,
    row: int | None = None,
    key: str,
    minimum: str = "nonnegative",
) -> float | None:
    """Check one number (a CSV cell or a TOML value) and record what was wrong.

    ``minimum`` is ``"any"``, ``"nonnegative"`` or ``"positive"``. A CSV cell (with a row)
    is text to read as a number; a TOML value (no row) must be a number, not text.
    """
    if isinstance(value, bool) or (isinstance(value, str) and row is None):
        number = None
    elif isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:  # a TOML integer too large for a float
            number = None
        number = number if number is not None and math.isfinite(number) else None
    else:
        number = parse_number(value)
    if number is None:
        problems.append(Problem(file, "not_a_number", row, key, {"value": value if value is not None else ""}))
        return None
    if minimum == "nonnegative" and number < 0:
        problems.append(Problem(file, "negative", row, key, {"value": value}))
        return None
    if minimum == "positive" and number <= 0:
        problems.append(Problem(file, "not_positive", row, key, {"value": value}))
        return None
    return number


def is_remove(value) -> bool:
    return isinstance(value, str) and value.strip().lower() == REMOVE


# --------------------------------------------------------------------------- the rules


def parse_settlement(
    table, label: str, prefix: str = "settlement", where: dict[str, str] | None = None
) -> tuple[Settlement | None, list[Problem]]:
    """Check a whole ``[settlement]`` table and build :class:`Settlement` from it.

    ``where`` maps a key to the place it was written (e.g. ``years[2].floor_percent``) when
    the table was merged from several places, so that a problem names the line to fix.
    """
    where = where or {}

    def place(key: str) -> str:
        return where.get(key, f"{prefix}.{key}")

    problems: list[Problem] = []
    if not isinstance(table, dict):
        return None, [Problem(label, "expected_table", key=prefix)]
    for key in table:
        if key not in SETTLEMENT_KEYS:
            problems.append(
                Problem(label, "unknown_key", key=place(key), params={"allowed": ", ".join(SETTLEMENT_KEYS)})
            )

    def number(key: str, minimum: str, required: bool = False) -> float | None:
        if key not in table or table[key] is None:
            if required:
                problems.append(Problem(label, "missing_key", key=place(key)))
            return None
        return check_number(table[key], problems, label, key=place(key), minimum=minimum)

    def text(key: str, required: bool = True) -> str | None:
        value = table.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            problems.append(Problem(label, "missing_key" if key not in table else "expected_text", key=place(key)))
            return None
        return value.strip()

    has_total, has_band_d = table.get("aef_total") is not None, table.get("notional_band_d") is not None
    if has_total and has_band_d:
        problems.append(Problem(label, "both_total_and_band_d", key=prefix))
    elif not (has_total or has_band_d):
        problems.append(Problem(label, "neither_total_nor_band_d", key=prefix))
    aef_total = number("aef_total", "nonnegative")
    # A negative notional Band D would raise money by paying council tax out (SPEC §3.3).
    notional_band_d = number("notional_band_d", "nonnegative")
    ndr_pool = number("ndr_pool", "nonnegative", required=True)
    floor_percent = number("floor_percent", "any")
    cap_percent = number("cap_percent", "any")
    floor_funding = table.get("floor_funding", "external")
    if floor_funding not in FLOOR_FUNDING_MODES:
        problems.append(
            Problem(
                label,
                "bad_choice",
                key=place("floor_funding"),
                params={"value": floor_funding, "allowed": ", ".join(FLOOR_FUNDING_MODES)},
            )
        )
    problems += floor_cap_problems(
        floor_percent, cap_percent, label, place, blame_floor="floor_percent" in where and "cap_percent" not in where
    )
    ndr_indicator = text("ndr_indicator")
    taxbase_indicator = text("taxbase_indicator")
    population_indicator = text("population_indicator", required=False)
    if problems:
        return None, problems
    assert ndr_pool is not None and ndr_indicator is not None and taxbase_indicator is not None
    return (
        Settlement(
            ndr_pool=ndr_pool,
            ndr_indicator=ndr_indicator,
            taxbase_indicator=taxbase_indicator,
            aef_total=aef_total,
            notional_band_d=notional_band_d,
            floor_percent=floor_percent,
            floor_funding=floor_funding,
            cap_percent=cap_percent,
            population_indicator=population_indicator,
        ),
        [],
    )


def floor_cap_problems(
    floor_percent: float | None, cap_percent: float | None, label: str, place, blame_floor: bool = False
) -> list[Problem]:
    """The rules a floor and a cap obey together (SPEC §6): each at least -100 %, cap >= floor.

    A cap below the floor is blamed on the cap, unless only the floor was changed (a later
    year's floor through the dataset's cap)."""
    problems = []
    if floor_percent is not None and floor_percent < LOWEST_PERCENT:
        problems.append(
            Problem(label, "floor_below_minus_100", key=place("floor_percent"), params={"value": floor_percent})
        )
    if cap_percent is not None and cap_percent < LOWEST_PERCENT:
        problems.append(
            Problem(label, "floor_below_minus_100", key=place("cap_percent"), params={"value": cap_percent})
        )
    if floor_percent is not None and cap_percent is not None and cap_percent < floor_percent:
        culprit = "floor_percent" if blame_floor else "cap_percent"
        problems.append(
            Problem(label, "cap_below_floor", key=place(culprit), params={"cap": cap_percent, "floor": floor_percent})
        )
    return problems


def overlay(base: dict, changes: dict) -> dict:
    """``changes`` written over a settlement table (SPEC §5): giving notional_band_d drops
    aef_total and vice versa; ``"none"`` (or None) removes a floor or a cap."""
    merged = dict(base)
    if changes.get("notional_band_d") is not None:
        merged.pop("aef_total", None)
    if changes.get("aef_total") is not None:
        merged.pop("notional_band_d", None)
    for key, value in changes.items():
        if key in REMOVABLE and (value is None or is_remove(value)):
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def changed_settlement(
    settlement: Settlement, label: str, where: dict[str, str] | None = None, **changes
) -> tuple[Settlement | None, list[Problem]]:
    """``settlement`` with some parameters changed, through every rule of :func:`parse_settlement`.

    The way a later year, a goal seek or a sweep changes a parameter: ``where`` names the
    place each changed key came from, for messages.
    """
    return parse_settlement(overlay(settlement.as_dict(), changes), label, where=where)
