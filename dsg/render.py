"""On-screen rendering of an allocation with rich: £ thousand, % to one decimal, Wales row."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from dsg.export import largest_remainder
from dsg.formula.settlement import ALLOCATION_COLUMNS, MONEY_COLUMNS, Allocation
from dsg.i18n import message, term

import shutil

# The ONS code is in exports; names are enough on screen.
SCREEN_COLUMNS = ALLOCATION_COLUMNS[1:]


def screen_columns(allocation: Allocation) -> tuple[str, ...]:
    """Columns to show: the cap and self-funding columns only when that mechanism is on.

    Exports always carry every SPEC §4 column; on screen, width is scarce and the
    summary lines already say when there is no cap or the floor is paid on top.
    """
    settlement = allocation.dataset.settlement
    hidden = set()
    if settlement.cap_percent is None:
        hidden.add("cap_reduction")
    if settlement.floor_funding != "self" or settlement.floor_percent is None:
        hidden.add("self_funding")
    return tuple(c for c in SCREEN_COLUMNS if c not in hidden)


def thousands(value: float) -> str:
    return f"{value / 1000:,.0f}"


def percent(value: float) -> str:
    return f"{value:.1f}"


def allocation_table(allocation: Allocation, lang: str = "en") -> Table:
    """The SPEC §4 table in £ thousand, rounded so that the rows add up to the Wales row."""
    table = Table(
        title=allocation.dataset.title(lang),
        caption=term("words", "pounds_thousand", lang),
        show_footer=True,
        header_style="bold",
        footer_style="bold",
    )
    frame = allocation.table(lang)
    columns = screen_columns(allocation)
    shown = {
        column: largest_remainder(frame[column].to_numpy(), 1000.0) if column in MONEY_COLUMNS else frame[column].to_numpy()
        for column in columns
    }
    totals = allocation.wales_totals()

    def cell(column: str, value) -> str:
        if column in MONEY_COLUMNS:
            return thousands(value)
        if column == "pct_change":
            return percent(value)
        return str(value)

    body = {column: [cell(column, value) for value in shown[column]] for column in columns}
    for column in columns:
        if column == "council":
            footer = term("words", "wales", lang)
        elif column in MONEY_COLUMNS:
            footer = thousands(sum(shown[column]))
        elif column == "pct_change":
            footer = percent(100.0 * totals["change"] / totals["base_aef"])
        else:
            footer = ""
        # Headers may wrap onto several lines; figures and names never do.
        table.add_column(
            term("screen", column, lang),
            footer=footer,
            justify="left" if column == "council" else "right",
            min_width=max(len(text) for text in [*body[column], footer]),
        )
    for row in range(frame.height):
        table.add_row(*(body[column][row] for column in columns))
    return table


def settlement_summary(allocation: Allocation, lang: str = "en") -> list[str]:
    """The Wales figures under the table: Band D, AEF shared, floor and its cost."""
    settlement = allocation.dataset.settlement
    floor = (
        f"{settlement.floor_percent:g} % ({term('words', 'funded_' + settlement.floor_funding, lang)})"
        if settlement.floor_percent is not None
        else term("words", "none", lang)
    )
    cap = f"{settlement.cap_percent:g} %" if settlement.cap_percent is not None else term("words", "none", lang)
    lines = [
        f"{term('words', 'notional_band_d', lang)}: £{allocation.notional_band_d:,.2f}",
        f"{term('words', 'aef_total', lang)}: £{allocation.aef_total:,.0f}",
        f"{term('words', 'floor', lang)}: {floor}; {term('words', 'cap', lang)}: {cap}",
        f"{term('words', 'floor_cost', lang)}: £{allocation.floor_cost:,.0f}",
    ]
    if settlement.floor_funding == "self" and settlement.floor_percent is not None:
        lines.append(f"{term('words', 'self_funding_rate', lang)}: {100 * allocation.self_funding_rate:.2f} %")
    scenario = allocation.dataset.provenance.get("scenario_file")
    if scenario:
        name = allocation.dataset.provenance.get("scenario_name") or ""
        lines.append(f"{term('words', 'scenario', lang)}: {scenario}" + (f" ({name})" if name else ""))
    return lines


def print_allocation(allocation: Allocation, lang: str = "en", console: Console | None = None) -> None:
    table = allocation_table(allocation, lang)
    if console is None:
        # Never squeeze figures: when the terminal (or a pipe's 80 columns) is too
        # narrow, the table keeps its natural width and lines run on.
        needed = Console(width=1000).measure(table).maximum
        console = Console(width=max(shutil.get_terminal_size().columns, needed))
    console.print(table)
    for line in settlement_summary(allocation, lang):
        console.print(line, highlight=False)
    for warning in allocation.warnings:
        console.print(f"[yellow]{term('words', 'warning', lang)}:[/yellow] {message(warning.code, lang, **warning.params)}", highlight=False)
