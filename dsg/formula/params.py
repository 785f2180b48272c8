"""Settlement parameters and every rule about them, in one place.

``[settlement]`` in dataset.toml, a scenario's ``[settlement]``, a ``[[years]]`` entry,
goal seek and sweeps all build their parameters through :func:`parse_settlement`, so a
floor above the cap or below -100 % is refused the same way wherever it is written.

Absent floor, cap or notional Band D is ``None`` here; inside the arrays it becomes NaN
(dsg.formula.arrays), and nowhere else. "On the floor" is :func:`on_floor`.

This module imports neither polars nor numba: a refusal of bad input should be quick.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

from dsg.errors import Problem
from dsg.formula.names import unknown_key

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

# Plausible ranges (docs/user-guide.md, "Plausible ranges"): every number of a dataset or a
# scenario enters through check_number with one of these kinds, and a value outside its
# range is a problem naming its file and row or key. They are far wider than any real
# settlement and narrow enough that nothing in the engine overflows: money up to £1,000
# trillion keeps every whole pound exact in a float (below 2**53, about 9e15).
MONEY_LIMIT = 1e15
PERCENT_LIMIT = 1000.0
# A settled figure (per council or for Wales) beyond this, or not finite, is refused after
# the kernel (dsg.formula.settle, dsg.analysis.robustness): never shown, never written.
RESULT_LIMIT = 1e16


@dataclass(frozen=True)
class Range:
    """The values a kind of number may take, both ends included; ``whole``: integers only."""

    low: float
    high: float
    whole: bool = False


RANGES = {
    # Service totals, aef_total, ndr_pool, grant amounts, a later year's service totals (£).
    "money": Range(0.0, MONEY_LIMIT),
    # The fixed element, an adjustment that may be negative (£).
    "signed_money": Range(-MONEY_LIMIT, MONEY_LIMIT),
    # Previous-year AEF: at least £1, as every % change divides by it.
    "base": Range(1.0, MONEY_LIMIT),
    # Floor, cap, cut, protection and growth (%); the -100 % and cut rules apply on top.
    "percent": Range(-PERCENT_LIMIT, PERCENT_LIMIT),
    "weight": Range(0.0, 1.0),
    "band_d": Range(0.0, 1e6),
    "indicator": Range(0.0, 1e15),
    # transition_years.
    "years": Range(1, 100, whole=True),
}


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
    if not isinstance(text, str):
        return None
    if "_" in text:  # Python reads 1_000 as 1000; a spreadsheet would not
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def toml_literal(value, width: int = 60, depth: int = 0) -> str:
    """A value as it would be written in TOML, cut to ``width`` characters, for messages:
    ``[1, 2]`` is an array, ``{ a = 1 }`` a table, ``1979-05-27`` a date."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    elif isinstance(value, (datetime.date, datetime.time)):
        text = value.isoformat()
    elif isinstance(value, int):
        # str() of an integer of thousands of digits is slow or refused: its size will do.
        size = int(abs(value).bit_length() * math.log10(2))
        text = str(value) if size < 30 else f"{'-' if value < 0 else ''}~1e{size}"
    elif isinstance(value, float):
        text = repr(value)
    elif isinstance(value, (list, tuple)):
        text = (
            "[" + ", ".join(toml_literal(v, width, depth + 1) for v in value[:5]) + ("]" if len(value) <= 5 else ", …]")
        )
        text = "[…]" if depth > 2 else text
    elif isinstance(value, dict):
        items = list(value.items())[:5]
        inner = ", ".join(f"{k} = {toml_literal(v, width, depth + 1)}" for k, v in items)
        text = "{ … }" if depth > 2 else "{ " + inner + (" }" if len(value) <= 5 else ", … }")
    else:
        text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def shown_number(value) -> str:
    """A value as a message shows it: a CSV cell as written, a TOML float without noise
    (2e+15, not 2000000000000000.0)."""
    return f"{value:.15g}" if isinstance(value, float) else str(value)


def range_text(number: float) -> str:
    """An end of a range in a message: 1e15 rather than 1000000000000000.0."""
    if abs(number) >= 1e6:
        mantissa, exponent = f"{number:e}".split("e")
        return f"{float(mantissa):g}e{int(exponent)}"
    return f"{number:g}"


def check_number(
    value,
    problems: list[Problem],
    file: str,
    *,
    row: int | None = None,
    key: str,
    kind: str,
) -> float | None:
    """Check one number (a CSV cell or a TOML value) against its kind's plausible range
    (:data:`RANGES`) and record what was wrong.

    A CSV cell (with a row) is text to read as a number; a TOML value (no row) must be a
    number: text, true/false, an array, a table, a date or a time is a problem that says
    what was found. Every number of a dataset or a scenario enters here.
    """
    allowed = RANGES[kind]
    if isinstance(value, (bool, list, tuple, dict, datetime.date, datetime.time)):
        problems.append(Problem(file, "number_found", row, key, {"found": toml_literal(value)}))
        return None
    if isinstance(value, str) and row is None:
        number = None
    elif isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:  # a TOML integer too large for a float
            number = None
        number = number if number is not None and math.isfinite(number) else None
    elif value is None or isinstance(value, str):
        number = parse_number(value)
    else:
        problems.append(Problem(file, "number_found", row, key, {"found": toml_literal(value)}))
        return None
    if number is None:
        shown = "" if value is None else toml_literal(value, 40) if isinstance(value, int) else value
        problems.append(Problem(file, "not_a_number", row, key, {"value": shown}))
        return None
    if allowed.whole and number != math.floor(number):
        problems.append(Problem(file, "not_whole_years", row, key, {"value": value}))
        return None
    if allowed.low == 0 and number < 0:
        problems.append(Problem(file, "negative", row, key, {"value": value}))
        return None
    if allowed.low > 0 and number <= 0:
        code = "not_whole_years" if allowed.whole else "not_positive"
        problems.append(Problem(file, code, row, key, {"value": value}))
        return None
    if not allowed.low <= number <= allowed.high:
        problems.append(
            Problem(
                file,
                "out_of_range",
                row,
                key,
                {"value": shown_number(value), "low": range_text(allowed.low), "high": range_text(allowed.high)},
            )
        )
        return None
    return number


def finite_sum(values) -> float:
    """``math.fsum`` that gives inf (or nan) instead of raising OverflowError when the exact
    sum is beyond a float: checked values never get there, but a sum is never a traceback."""
    values = [float(v) for v in values]
    try:
        return math.fsum(values)
    except OverflowError:  # finite values whose partial sums pass the largest float
        return math.fsum(v / 2.0**64 for v in values) * 2.0**64
    except ValueError:  # inf + -inf
        return math.nan


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
        return None, [Problem(label, "table_found", key=prefix, params={"found": toml_literal(table)})]
    for key in table:
        if key not in SETTLEMENT_KEYS:
            problems.append(unknown_key(label, key, SETTLEMENT_KEYS, place(key)))

    def number(key: str, kind: str, required: bool = False) -> float | None:
        if key not in table or table[key] is None:
            if required:
                problems.append(Problem(label, "missing_key", key=place(key)))
            return None
        return check_number(table[key], problems, label, key=place(key), kind=kind)

    def text(key: str, required: bool = True) -> str | None:
        value = table.get(key)
        if value is None and not required:
            return None
        if value is not None and not isinstance(value, str):
            problems.append(Problem(label, "text_found", key=place(key), params={"found": toml_literal(value)}))
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
    aef_total = number("aef_total", "money")
    # A negative notional Band D would raise money by paying council tax out (SPEC §3.3).
    notional_band_d = number("notional_band_d", "band_d")
    ndr_pool = number("ndr_pool", "money", required=True)
    floor_percent = number("floor_percent", "percent")
    cap_percent = number("cap_percent", "percent")
    floor_funding = table.get("floor_funding", "external")
    if not isinstance(floor_funding, str):
        problems.append(
            Problem(label, "text_found", key=place("floor_funding"), params={"found": toml_literal(floor_funding)})
        )
    elif floor_funding not in FLOOR_FUNDING_MODES:
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
