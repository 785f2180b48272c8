"""Number formats, in one place: how a figure reads on screen, in a line of text and in Excel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dsg.output.rounding import round_half_up

# Decimals of a % in CSV and Parquet: SPEC §4 asks for at least 4; 6 keeps a 0.0001 %
# difference visible.
PCT_DECIMALS = 6


def thousands(value: float) -> str:
    """£ thousand, no decimals; + 0.0 turns the -0 of a small loss into 0."""
    return f"{round_half_up(value, 1000.0) / 1000 + 0.0:,.0f}"


def percent(value: float) -> str:
    return f"{value:.1f}"


def pounds(value: float) -> str:
    """Whole pounds with a £ sign, for lines of text: £1,234,567, or -£1,234 below zero."""
    whole = round_half_up(value) + 0.0  # + 0.0 turns -0 into 0
    return f"-£{-whole:,.0f}" if whole < 0 else f"£{whole:,.0f}"


def signed_pounds(value: float) -> str:
    """A change in whole pounds, signed: +£1,234 or -£1,234."""
    whole = round_half_up(value) + 0.0
    return f"-£{-whole:,.0f}" if whole < 0 else f"+£{whole:,.0f}"


def signed_figure(value: float | None, decimals: int = 2) -> str:
    """A change with its sign, to ``decimals``: +2.72, -25.74; empty for no figure."""
    return "" if value is None or value != value else f"{value:+,.{decimals}f}"


def band_d(value: float) -> str:
    return f"£{value:,.2f}"


def count(value: float) -> str:
    """A count of people or dwellings: 58,839."""
    return f"{value:,.0f}"


def share_percent(share: float) -> str:
    """A share (0 to 1) as a percentage to two decimals: 1.89 %."""
    return f"{100 * share:.2f} %"


def precise_percent(value: float) -> str:
    """A % change to four decimals, as goal seek reports a target met: 2.8000 %."""
    return f"{value:.4f} %"


def percent_setting(value: float) -> str:
    """A floor or cap as written in a scenario: 2.8 %."""
    return f"{value:g} %"


def setting(parameter: str, value: float) -> str:
    """A value of a goal-seek parameter as a reader expects it: a floor or cap as a % to four
    decimals, a service total in whole pounds, a weight to six decimals."""
    kind = parameter.partition(":")[0]
    if kind == "service":
        return pounds(value)
    if kind == "weight":
        return f"{value:.6f}"
    return precise_percent(value)


def compact_pounds(value: float) -> str:
    """£ in a short form for a line of text: £2.95bn, £48.2m, £950k, -£1.20bn."""
    size = abs(value)
    for limit, unit, decimals in ((1e9, "bn", 2), (1e6, "m", 1), (1e3, "k", 0)):
        if size >= limit:
            text = f"£{size / limit:,.{decimals}f}{unit}"
            return f"-{text}" if value < 0 else text
    return pounds(value)


# Screen cells by kind of column (rich tables).
SCREEN: dict[str, Callable[[Any], str]] = {
    "text": str,
    "thousands": thousands,
    "pounds": lambda v: f"{round_half_up(v) + 0.0:,.0f}",  # + 0.0: never "-0"
    "pounds2": lambda v: f"{v:,.2f}",
    "pct": percent,
    "pct2": lambda v: f"{v:.2f}",
    "share": lambda v: f"{100 * v:.2f}",
    "ratio": lambda v: f"{v:.2f}",
    "int": lambda v: f"{int(v):,}",
    "signed_int": lambda v: f"{int(v):+d}" if v else "0",
    "number": lambda v: f"{v:,.6g}",
}

# Excel number formats by kind of column.
EXCEL = {
    "money": "#,##0",
    "pounds2": "#,##0.00",
    "pct": "0.0000",
    "share": "0.0000",
    "int": "0",
    "number": "General",
}
