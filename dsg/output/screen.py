"""On-screen rendering with rich: £ thousand, % to one decimal, a Wales row, words in en or cy."""

from __future__ import annotations

import shutil

import numpy as np
import polars as pl
from rich.console import Console
from rich.table import Table

from dsg.analysis.caveats import MARK, caveat_lines, caveats
from dsg.formula.arrays import per_unit, unit_counts
from dsg.formula.settle import ALLOCATION_COLUMNS, MONEY_COLUMNS, Allocation
from dsg.i18n import has_name, indicator_label, message, name_of
from dsg.output.formats import (
    SCREEN,
    band_d,
    count,
    percent,
    percent_setting,
    pounds,
    share_percent,
    signed_pounds,
    thousands,
)
from dsg.output.rounding import largest_remainder

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
    if not settlement.self_funded:
        hidden.add("self_funding")
    return tuple(c for c in SCREEN_COLUMNS if c not in hidden)


def per_unit_columns(
    dataset, wanted: dict[str, tuple[np.ndarray, str]]
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Per-unit figures by column: ``wanted`` maps each column to its amounts and the unit
    they are divided by (``per_head`` or ``per_band_d``, dsg.formula.arrays.unit_counts); a
    column whose unit the dataset lacks (no population indicator) is left out. Also the Wales
    figures for a footer: the Wales total over the Wales count."""
    counts = unit_counts(dataset)
    columns, footer = {}, {}
    for column, (values, unit) in wanted.items():
        if unit in counts:
            columns[column] = per_unit(values, counts[unit])
            footer[column] = SCREEN["pounds2"](float(per_unit(values.sum(), counts[unit].sum())))
    return columns, footer


def allocation_table(allocation: Allocation, lang: str = "en") -> Table:
    """The SPEC §4 table in £ thousand, rounded so that the rows add up to the Wales row, and
    AEF and its change per head and the change per Band D dwelling."""
    frame = allocation.table(lang)
    columns = screen_columns(allocation)
    shown = frame.with_columns(
        pl.Series(column, largest_remainder(frame[column].to_numpy(), 1000.0))
        for column in columns
        if column in MONEY_COLUMNS
    )
    totals = allocation.wales_totals()
    footer = {
        "council": name_of("words", "wales", lang),
        "pct_change": percent(100.0 * totals["change"] / totals["base_aef"]),
    }
    footer.update({c: thousands(float(shown[c].sum())) for c in columns if c in MONEY_COLUMNS})
    kinds = {"council": "text", "pct_change": "pct", "rank": "int"}
    wanted = [c for c in columns if c != "rank"]
    # In a narrow window these go first: the AEF, its change and the floor stay longest.
    drop_first = (
        "change_per_band_d",
        "aef_per_head",
        "ndr",
        "rsg",
        "cap_reduction",
        "self_funding",
        "assumed_council_tax",
        "aef_formula",
        "ssa",
        "rank",
        "change_per_head",
        "base_aef",
    )
    aef, change = allocation.councils["aef"].to_numpy(), allocation.councils["change"].to_numpy()
    extra, extra_footer = per_unit_columns(
        allocation.dataset,
        {
            "aef_per_head": (aef, "per_head"),
            "change_per_head": (change, "per_head"),
            "change_per_band_d": (change, "per_band_d"),
        },
    )
    shown = shown.with_columns(pl.Series(name, values).fill_nan(None) for name, values in extra.items())
    footer.update(extra_footer)
    return frame_table(
        shown,
        [(c, name_of("screen", c, lang), kinds.get(c, "thousands")) for c in wanted]
        + [(c, name_of("screen", c, lang), "pounds2") for c in extra]
        + [("rank", name_of("screen", "rank", lang), "int")],
        title=allocation.dataset.title(lang) + (f" {MARK}" if caveats(allocation.dataset) else ""),
        footer=footer,
        caption=name_of("words", "pounds_thousand_per_head", lang),
        drop_first=drop_first,
    )


def settlement_summary(allocation: Allocation, lang: str = "en") -> list[str]:
    """The Wales figures under the table: Band D, AEF shared, floor and its cost."""
    settlement = allocation.dataset.settlement
    floor = (
        f"{percent_setting(settlement.floor_percent)} ({name_of('words', 'funded_' + settlement.floor_funding, lang)})"
        if settlement.floor_percent is not None
        else name_of("words", "none", lang)
    )
    cap = (
        percent_setting(settlement.cap_percent)
        if settlement.cap_percent is not None
        else name_of("words", "none", lang)
    )
    lines = [
        f"{name_of('words', 'notional_band_d', lang)}: {band_d(allocation.notional_band_d)}",
        f"{name_of('words', 'aef_total', lang)}: {pounds(allocation.aef_total)}",
        f"{name_of('words', 'floor', lang)}: {floor}; {name_of('words', 'cap', lang)}: {cap}",
        f"{name_of('words', 'floor_cost', lang)}: {pounds(allocation.floor_cost)}",
    ]
    if settlement.self_funded:
        lines.append(f"{name_of('words', 'self_funding_rate', lang)}: {share_percent(allocation.self_funding_rate)}")
    scenario = allocation.dataset.provenance.get("scenario_file")
    if scenario:
        name = allocation.dataset.provenance.get("scenario_name") or ""
        lines.append(f"{name_of('words', 'scenario', lang)}: {scenario}" + (f" ({name})" if name else ""))
    return lines


def print_allocation(allocation: Allocation, lang: str = "en", console: Console | None = None) -> None:
    print_wide(allocation_table(allocation, lang), console, lang)
    warnings = [
        f"[yellow]{name_of('words', 'warning', lang)}:[/yellow] {message(warning.code, lang, **warning.params)}"
        for warning in allocation.warnings
    ]
    print_lines([*settlement_summary(allocation, lang), *warnings, *caveat_lines(allocation.dataset, lang)], console)


def print_lines(lines, console: Console | None = None) -> None:
    """Lines under a table, unwrapped (a terminal wraps them itself)."""
    console = console or Console()
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True)


# --------------------------------------------------------------------------- generic tables


def frame_table(
    frame,
    columns: list[tuple[str, str, str]],
    title: str = "",
    footer: dict | None = None,
    caption: str = "",
    drop_first=(),
) -> Table:
    """A rich table from a frame: ``columns`` are (column, header, format) with a formats.SCREEN key.

    Figures never wrap; headers may. ``footer`` maps columns to already formatted text. When
    the table is wider than the terminal, columns go (see :func:`print_wide`): those named in
    ``drop_first`` first, in that order, then from the right; the first column always stays.
    """
    table = Table(
        title=title, caption=caption, show_footer=footer is not None, header_style="bold", footer_style="bold"
    )
    for column, header, kind in columns:
        cells = ["" if v is None else SCREEN[kind](v) for v in frame[column].to_list()]
        foot = (footer or {}).get(column, "")
        table.add_column(
            header,
            footer=foot,
            justify="left" if kind == "text" else "right",
            min_width=max(len(text) for text in [*cells, foot, "-"]),
        )
    for row in zip(*(["" if v is None else SCREEN[kind](v) for v in frame[c].to_list()] for c, _, kind in columns)):
        table.add_row(*row)
    keys = [c for c, _, _ in columns]
    table.dsg_drop_order = [k for k in drop_first if k in keys] + [k for k in reversed(keys[1:]) if k not in drop_first]  # type: ignore[attr-defined]
    table.dsg_keys = keys  # type: ignore[attr-defined]
    return table


def fit(table: Table, width: int, console: Console) -> list[str]:
    """Take columns out of ``table`` (its drop order) until it fits ``width``; the headers of
    those taken out, in table order."""
    keys = list(getattr(table, "dsg_keys", []))
    position = {key: index for index, key in enumerate(keys)}
    order = list(getattr(table, "dsg_drop_order", []))
    dropped = []
    while order and console.measure(table).maximum > width:
        key = order.pop(0)
        index = keys.index(key)
        dropped.append((position[key], str(table.columns[index].header).replace("\n", " ")))
        del table.columns[index]
        keys.pop(index)
    return [header for _, header in sorted(dropped)]


def print_wide(table: Table, console: Console | None = None, lang: str = "en") -> None:
    """Print a table so that its figures never wrap.

    On a terminal narrower than the table, columns are left out (see :func:`frame_table`) and
    a line says which; into a pipe or a file, the table keeps its full width (and
    ``--format csv`` gives the data itself).
    """
    console = console or Console()
    needed = Console(width=1000).measure(table).maximum
    if console.is_terminal:
        width = console.size.width
        dropped = fit(table, width, Console(width=1000)) if needed > width else []
        console.print(table)
        if dropped:
            note = name_of("words", "left_out_to_fit", lang, width=width, columns=", ".join(dropped))
            console.print(note, highlight=False, soft_wrap=True)
        return
    Console(width=max(shutil.get_terminal_size().columns, needed), file=console.file).print(table)


# --------------------------------------------------------------------------- compare


def extreme(council: str, amount: float) -> str:
    """The largest gain or loss: the council and the amount, or just "none"."""
    return f"{council} ({signed_pounds(amount)})" if amount else council


def comparison_tables(comparison, lang: str = "en", sort: str = "order", by_region: bool = False) -> list:
    """For each scenario: its table of councils (or regions) and the Wales summary lines.

    When a side moves specific grants, the table shows each council's grants before and
    after and the net change (AEF and grants), on which gains and losses are counted."""
    grants = comparison.moves_grants
    blocks = []
    for index, summary in enumerate(comparison.wales_summary(lang)):
        title = name_of(
            "words", "comparison_title", lang, scenario=summary["scenario"], baseline=comparison.baseline_label
        ) + (f" {MARK}" if caveats(comparison.scenarios[index].dataset, grants) else "")
        footer = {
            "council": name_of("words", "wales", lang),
            "region": name_of("words", "wales", lang),
            "pct_difference": percent(summary["pct_difference"]),
        }
        if by_region:
            frame = comparison.by_region(lang).filter(pl.col("scenario") == summary["scenario"])
            columns = [
                ("region", "text"),
                ("councils", "int"),
                ("aef_baseline", "thousands"),
                ("aef", "thousands"),
                ("difference", "thousands"),
                ("pct_difference", "pct"),
                ("floor_topup", "thousands"),
            ]
            footer["councils"] = str(int(frame["councils"].sum()))
            title = name_of("words", "regions_title", lang, scenario=summary["scenario"])
        else:
            frame = comparison.scenario_table(index, lang, sort)
            columns = [
                ("council", "text"),
                ("aef_baseline", "thousands"),
                ("aef", "thousands"),
                ("difference", "thousands"),
                ("pct_difference", "pct"),
                ("floor_topup", "thousands"),
                ("rank_change", "signed_int"),
            ]
        if grants:
            columns[-1:-1] = [
                ("grants_baseline", "thousands"),
                ("grants", "thousands"),
                ("net_difference", "thousands"),
            ]
        shown_units: list[str] = []
        if not by_region:
            # The change per head and per Band D dwelling, in £, before the change in rank (the
            # rows carry them; the Wales figures are worked here, whatever the row order).
            difference = frame["difference"].to_numpy()
            wanted = {
                "difference_per_head": (difference, "per_head"),
                "difference_per_band_d": (difference, "per_band_d"),
            }
            _, extra_footer = per_unit_columns(comparison.baseline.dataset, wanted)
            shown_units = list(extra_footer)
            columns[-1:-1] = [(c, "pounds2") for c in shown_units]
            footer.update(extra_footer)
        # Each money column in £ thousand, rounded so that the rows add up to the Wales row.
        money = [c for c, kind in columns if kind == "thousands"]
        frame = frame.with_columns(pl.Series(c, largest_remainder(frame[c].to_numpy(), 1000.0)) for c in money)
        footer.update({c: thousands(float(frame[c].sum())) for c in money})
        # The screen's short headers; the full ones are in exports.
        headed = [(c, name_of("screen" if has_name("screen", c) else "columns", c, lang), kind) for c, kind in columns]
        caption = name_of("words", "pounds_thousand_per_head" if shown_units else "pounds_thousand", lang)
        drop_first = (
            "grants_baseline",
            "grants",
            "difference_per_band_d",
            "rank_change",
            "floor_topup",
            "difference_per_head",
            "aef_baseline",
        )
        table = frame_table(frame, headed, title=title, footer=footer, caption=caption, drop_first=drop_first)
        lines = [
            f"{name_of('columns', 'floor_cost_baseline', lang)}: {pounds(summary['floor_cost_baseline'])}; "
            f"{name_of('columns', 'floor_cost', lang)}: {pounds(summary['floor_cost'])}",
            f"{name_of('columns', 'gaining', lang)}: {summary['gaining']}; {name_of('columns', 'losing', lang)}: {summary['losing']}; "
            f"{name_of('columns', 'on_floor', lang)}: {summary['on_floor']}",
            f"{name_of('columns', 'largest_gain_council', lang)}: {extreme(summary['largest_gain_council'], summary['largest_gain'])}; "
            f"{name_of('columns', 'largest_loss_council', lang)}: {extreme(summary['largest_loss_council'], summary['largest_loss'])}",
        ]
        if grants:
            lines.insert(1, name_of("words", "net_note", lang))
        if by_region:
            lines.append(name_of("words", "regions_source", lang))
        lines += caveat_lines(comparison.scenarios[index].dataset, lang, grants=grants)
        blocks.append((table, lines))
    return blocks


def decomposition_title(decomposition, scenario_label: str, lang: str = "en") -> str:
    """ "Change in AEF by cause: <scenario> (<method>)", for the table and the chart alike."""
    return name_of(
        "words",
        "decomposition_title",
        lang,
        measure=name_of("screen", decomposition.measure, lang),
        scenario=scenario_label,
        method=name_of("causes", decomposition.method, lang),
    )


def decomposition_table(decomposition, scenario_label: str, lang: str = "en") -> tuple[Table, list[str]]:
    frame = decomposition.table(lang)
    title = decomposition_title(decomposition, scenario_label, lang)
    columns = [("council", name_of("columns", "council", lang), "text")]
    columns += [(cause, name_of("causes", cause, lang), "thousands") for cause in decomposition.causes]
    columns.append(("total", name_of("causes", "total", lang), "thousands"))
    footer = {"council": name_of("words", "wales", lang)}
    footer.update({c: thousands(float(frame[c].sum())) for c in (*decomposition.causes, "total")})
    table = frame_table(frame, columns, title=title, footer=footer, caption=name_of("words", "pounds_thousand", lang))
    lines = [name_of("words", "decomposition_note" if decomposition.causes else "no_change", lang)]
    return table, lines


# --------------------------------------------------------------------------- explain


def explanation_tables(explanation, lang: str = "en") -> tuple[list[str], list[Table], list[str]]:
    """Header lines, the three tables (steps, services, indicators) and closing notes."""
    figures = explanation.figures
    head = [
        f"[bold]{name_of('words', 'explain_title', lang, council=explanation.name(lang))}[/bold] ({explanation.ons_code})"
    ]
    if figures["population"]:
        head.append(
            f"{name_of('words', 'population', lang)}: {count(figures['population'])} ({share_percent(figures['population_share'])})"
        )
    head.append(f"{name_of('words', 'band_d_equivalents', lang)}: {count(figures['taxbase'])}")
    head.append(f"{name_of('words', 'notional_band_d', lang)}: {band_d(figures['notional_band_d'])}")
    if figures["floor_level"] is not None:
        head.append(
            f"{name_of('words', 'floor_level', lang)} ({percent_setting(figures['floor_percent'])}): {pounds(figures['floor_level'])}"
        )

    steps = explanation.steps.with_columns(
        pl.col("key").replace_strict({k: name_of("steps", k, lang) for k in explanation.steps["key"]}).alias("step")
    )
    has_heads = figures["population"] is not None
    step_columns = [("step", name_of("columns", "step", lang), "text"), ("amount", "£", "pounds")]
    if has_heads:
        step_columns.append(("per_head", name_of("columns", "per_head", lang), "pounds2"))
    tables = [frame_table(steps, step_columns, title=name_of("words", "steps_title", lang))]

    dataset = explanation.allocation.dataset
    services = explanation.services.with_columns(
        pl.Series("label", [dataset.service_name(s, lang) for s in explanation.services["service"]])
    )
    service_columns = [
        ("label", name_of("columns", "service", lang), "text"),
        ("iba", name_of("columns", "iba", lang) + " (£)", "pounds"),
        ("share", name_of("columns", "share", lang) + " %", "share"),
    ]
    if has_heads:
        service_columns += [
            ("per_head", name_of("columns", "per_head", lang), "pounds2"),
            ("wales_per_head", name_of("columns", "wales_per_head", lang), "pounds2"),
            ("index", name_of("columns", "index", lang), "ratio"),
        ]
    tables.append(frame_table(services, service_columns, title=name_of("words", "services_title", lang)))

    indicator_columns = [
        ("label", name_of("columns", "indicator", lang), "text"),
        ("value", name_of("columns", "value", lang), "number"),
        ("share", name_of("columns", "share", lang) + " %", "share"),
    ]
    if has_heads:
        indicator_columns += [
            ("population_share", name_of("columns", "population_share", lang) + " %", "share"),
            ("ratio", name_of("columns", "ratio", lang), "ratio"),
        ]
    indicator_columns.append(("council_pounds", name_of("columns", "council_pounds", lang), "pounds"))
    indicators = explanation.indicators.with_columns(
        pl.col("indicator").map_elements(lambda i: indicator_label(i, lang), return_dtype=pl.String).alias("label")
    )
    tables.append(frame_table(indicators, indicator_columns, title=name_of("words", "indicators_title", lang)))
    return head, tables, [name_of("words", "residual_note", lang), *caveat_lines(explanation.allocation.dataset, lang)]


def change_tables(change, lang: str = "en") -> tuple[list[str], list[Table]]:
    """``dsg explain`` against a baseline: a title line, then the steps, services and
    indicators before and after, and the change split by cause (in £)."""
    head = [
        "[bold]"
        + name_of(
            "words",
            "change_title",
            lang,
            council=change.after.name(lang),
            scenario=change.scenario_label,
            baseline=change.baseline_label,
        )
        + "[/bold]"
    ]
    money = [
        ("before", name_of("columns", "before", lang) + " (£)", "pounds"),
        ("after", name_of("columns", "after", lang) + " (£)", "pounds"),
        ("change", name_of("columns", "change", lang) + " (£)", "pounds"),
    ]
    steps = change.steps.with_columns(
        pl.col("key").replace_strict({k: name_of("steps", k, lang) for k in change.steps["key"]}).alias("step")
    )
    tables = [
        frame_table(
            steps,
            [("step", name_of("columns", "step", lang), "text"), *money],
            title=name_of("words", "change_steps_title", lang),
        )
    ]
    services = change.services.with_columns(
        pl.Series(
            "label",
            [s if lang == "en" else (cy or s) for s, cy in change.services.select("service", "name_cy").iter_rows()],
        )
    )
    footer = {"label": name_of("columns", "total", lang), **{c: count(float(services[c].sum())) for c, _, _ in money}}
    tables.append(
        frame_table(
            services,
            [("label", name_of("columns", "service", lang), "text"), *money],
            title=name_of("words", "change_services_title", lang),
            footer=footer,
        )
    )
    indicators = change.indicators.with_columns(
        pl.col("indicator").map_elements(lambda i: indicator_label(i, lang), return_dtype=pl.String).alias("label")
    )
    tables.append(
        frame_table(
            indicators,
            [
                ("label", name_of("columns", "indicator", lang), "text"),
                ("share_before", name_of("columns", "share_before", lang), "share"),
                ("share_after", name_of("columns", "share_after", lang), "share"),
                *money,
            ],
            title=name_of("words", "change_indicators_title", lang),
        )
    )
    causes = change.causes.with_columns(
        pl.col("cause").replace_strict({c: name_of("causes", c, lang) for c in change.causes["cause"]}).alias("label")
    )
    tables.append(
        frame_table(
            causes,
            [("label", name_of("columns", "cause", lang), "text"), ("amount", "£", "pounds")],
            title=name_of("words", "change_causes_title", lang),
            caption=name_of("causes", change.method, lang),
        )
    )
    return head, tables


# --------------------------------------------------------------------------- grants


def grant_name(report_or_dataset, grant: str, lang: str) -> str:
    """A grant's name in ``lang`` from the dataset's grant catalogue (else as written)."""
    return getattr(report_or_dataset, "dataset", report_or_dataset).grant_name(grant, lang)


def catalogue_table(frame, dataset_name: str, lang: str = "en") -> Table:
    columns = [
        ("name", name_of("columns", "grant", lang), "text"),
        ("total", "£", "pounds"),
        ("year", name_of("columns", "year", lang), "text"),
        ("key", name_of("columns", "key", lang), "text"),
        ("key_status", name_of("columns", "key_status", lang), "text"),
        ("source", name_of("columns", "source", lang), "text"),
    ]
    footer = {"name": name_of("words", "wales", lang), "total": count(float(frame["total"].sum()))}
    return frame_table(
        frame, columns, title=name_of("words", "catalogue_title", lang, dataset=dataset_name), footer=footer
    )


def grant_report_tables(report, lang: str = "en") -> list[Table]:
    """Dehypothecation and consolidation per grant and year, the years, hypothecation levels."""
    tables = []
    caption = name_of("words", "pounds_thousand", lang)
    moves = report.dehypothecation(lang)
    yes, no = name_of("words", "yes", lang), name_of("words", "no", lang)
    for (grant, year), part in group_rows(moves):
        part = part.with_columns(
            pl.col("floor_protected").replace_strict({True: yes, False: no}, return_dtype=pl.String)
        )
        columns = [
            ("council", name_of("columns", "council", lang), "text"),
            ("grant_before", name_of("columns", "grant_before", lang), "thousands"),
            ("aef_gain", name_of("columns", "aef_gain", lang), "thousands"),
            ("net", name_of("columns", "net", lang), "thousands"),
            ("floor_protected", name_of("columns", "floor_protected", lang), "text"),
        ]
        footer = {"council": name_of("words", "wales", lang)} | {
            c: thousands(float(part[c].sum())) for c in ("grant_before", "aef_gain", "net")
        }
        title = name_of(
            "words",
            "dehypothecation_title",
            lang,
            grant=grant_name(report, grant, lang),
            year=year or report.path.years[0],
        )
        tables.append(frame_table(part, columns, title=title, footer=footer, caption=caption))
    for (grant, year), part in group_rows(report.consolidation(lang)):
        columns = [
            ("council", name_of("columns", "council", lang), "text"),
            ("old", name_of("columns", "old", lang), "thousands"),
            ("new", name_of("columns", "new", lang), "thousands"),
            ("change", name_of("columns", "change", lang), "thousands"),
            ("pct_change", name_of("columns", "pct_change", lang), "pct"),
        ]
        old, new = float(part["old"].sum()), float(part["new"].sum())
        footer = {
            "council": name_of("words", "wales", lang),
            "old": thousands(old),
            "new": thousands(new),
            "change": thousands(new - old),
            "pct_change": percent(100 * (new - old) / old) if old else "",
        }
        title = name_of(
            "words",
            "consolidation_title",
            lang,
            grant=grant_name(report, grant, lang),
            year=year or report.path.years[0],
        )
        tables.append(frame_table(part, columns, title=title, footer=footer, caption=caption))
    tables.append(multiyear_table(report, lang))
    hypothecation = report.hypothecation(lang)
    wales = report.hypothecation_wales()
    columns = [
        ("council", name_of("columns", "council", lang), "text"),
        ("grants_before", name_of("columns", "grants_before", lang), "thousands"),
        ("level_before", name_of("columns", "level_before", lang), "pct"),
        ("grants_after", name_of("columns", "grants_after", lang), "thousands"),
        ("level_after", name_of("columns", "level_after", lang), "pct"),
    ]
    footer = {
        "council": name_of("words", "wales", lang),
        "grants_before": thousands(wales["grants_before"]),
        "level_before": percent(wales["level_before"]),
        "grants_after": thousands(wales["grants_after"]),
        "level_after": percent(wales["level_after"]),
    }
    tables.append(
        frame_table(
            hypothecation, columns, title=name_of("words", "hypothecation_title", lang), footer=footer, caption=caption
        )
    )
    return tables


def group_rows(frame) -> list[tuple[tuple[str, str], pl.DataFrame]]:
    """A report table split by grant and year (the year column exists only over several years)."""
    if frame.height == 0:
        return []
    keys = ["grant", "year"] if "year" in frame.columns else ["grant"]
    groups = []
    for key, part in frame.group_by(keys, maintain_order=True):
        grant, year = (key[0], key[1]) if len(key) == 2 else (key[0], "")
        groups.append(((grant, year), part))
    return groups


def multiyear_table(report, lang: str = "en") -> Table:
    """Council x year: AEF (£ thousand) and % change on the year's adjusted base."""
    frame = report.multiyear(lang)
    years = report.path.years
    wide = frame.filter(pl.col("year") == years[0]).select("ons_code", "council")
    columns = [("council", name_of("columns", "council", lang), "text")]
    footer = {"council": name_of("words", "wales", lang)}
    wales = report.multiyear_wales()
    for index, year in enumerate(years):
        part = frame.filter(pl.col("year") == year)
        wide = wide.with_columns(
            pl.Series(f"aef_{index}", largest_remainder(part["aef"].to_numpy(), 1000.0)),
            pl.Series(f"pct_{index}", part["pct_change"].to_numpy()),
        )
        columns += [
            (f"aef_{index}", f"{name_of('screen', 'aef', lang)} {year}", "thousands"),
            (f"pct_{index}", f"% {year}", "pct"),
        ]
        footer[f"aef_{index}"] = thousands(float(wide[f"aef_{index}"].sum()))
        footer[f"pct_{index}"] = percent(wales["pct_change"][index])
    table = frame_table(
        wide,
        columns,
        title=name_of("words", "multiyear_title", lang),
        footer=footer,
        caption=name_of("words", "pounds_thousand", lang),
    )
    return table


def multiyear_lines(report, lang: str = "en") -> list[str]:
    """Per year: the AEF shared by the formula and the floor cost."""
    lines = []
    for row in report.multiyear_wales().iter_rows(named=True):
        lines.append(
            f"{row['year']}: {name_of('words', 'aef_total', lang)} {pounds(row['aef_total'])}; "
            f"{name_of('words', 'floor_cost', lang)} {pounds(row['floor_cost'])}"
        )
    return lines


# --------------------------------------------------------------------------- robustness


def sweep_frame(result, lang: str = "en"):
    """Council x step % change, one column per weight value."""
    from dsg.analysis.compare import unique_labels

    frame = pl.DataFrame({"council": result.dataset.council_names(lang)})
    names = unique_labels([f"{value:.4g}" for value in result.values])  # close weights can print alike
    return frame.with_columns(pl.Series(name, result.pct_change[step]) for step, name in enumerate(names))


def sweep_table(result, lang: str = "en") -> Table:
    frame = sweep_frame(result, lang)
    service = result.dataset.service_name(result.service, lang)
    title = name_of("words", "sweep_title", lang, service=service, indicator=result.indicator)
    columns = [("council", name_of("columns", "council", lang), "text")] + [(c, c, "pct") for c in frame.columns[1:]]
    return frame_table(frame, columns, title=title, caption=name_of("words", "sweep_caption", lang))


def montecarlo_frame(result, lang: str = "en"):
    """Per council: central % change, mean, p5, p50, p95, min, max, probability on the floor."""
    summary = result.summary
    percentiles = result.percentiles()
    return pl.DataFrame(
        {
            "ons_code": result.dataset.council_codes,
            "council": result.dataset.council_names(lang),
            "pct_central": result.central,
            "pct_mean": summary.mean,
            "pct_p5": percentiles["p5"],
            "pct_p50": percentiles["p50"],
            "pct_p95": percentiles["p95"],
            "pct_min": summary.lows,
            "pct_max": summary.highs,
            "probability_on_floor": summary.probability_on_floor,
        }
    )


def montecarlo_table(result, lang: str = "en") -> Table:
    frame = montecarlo_frame(result, lang)
    columns = [("council", name_of("columns", "council", lang), "text")]
    columns += [(c, name_of("columns", c, lang), "pct2") for c in frame.columns[2:-1]]
    columns.append(("probability_on_floor", name_of("columns", "probability_on_floor", lang), "ratio"))
    title = name_of(
        "words",
        "montecarlo_title",
        lang,
        samples=f"{result.samples:,}",
        seed=result.seed,
        concentration=f"{result.concentration:g}",
        noise=f"{result.indicator_noise:g}",
    )
    return frame_table(frame, columns, title=title)


# --------------------------------------------------------------------------- bench

ENGINES = ("numba_all_cores", "numba_one_core", "numpy", "polars_query", "polars_per_scenario")


def bench_table(figures: dict, lang: str = "en") -> tuple[Table, str]:
    """Settlements per second by engine, and the line of ratios under it."""
    frame = pl.DataFrame(
        {
            "engine": [name_of("words", f"engine_{k}", lang) for k in ENGINES],
            "per_second": [figures[k] for k in ENGINES],
        }
    )
    columns = [
        ("engine", name_of("words", "engine", lang), "text"),
        ("per_second", name_of("words", "per_second", lang), "pounds"),
    ]
    line = name_of(
        "words",
        "bench_ratios",
        lang,
        numpy=f"{figures['ratio_numba_to_numpy']:.1f}",
        one_core=f"{figures['ratio_one_core_to_numpy']:.1f}",
        query=f"{figures['ratio_numba_to_polars_query']:,.0f}",
        polars=f"{figures['ratio_numba_to_polars']:,.0f}",
        cores=f"{figures['ratio_all_to_one_core']:.2f}",
        threads=figures["threads"],
    )
    return frame_table(frame, columns, title=name_of("words", "bench_title", lang)), line


# --------------------------------------------------------------------------- the formula


def formula_tables(dataset, lang: str = "en", service: str | None = None) -> list[Table]:
    """``dsg formula``: the services (unless one is asked for), then each service's indicators
    with weights, the £ each shares, labels in English and Welsh and statuses."""
    from dsg.analysis.formula import formula_view, services_view

    tables = []
    services = services_view(dataset, lang)
    if service is None:
        name_column = "service_cy" if lang == "cy" else "service"
        columns = [
            (name_column, name_of("columns", "service", lang), "text"),
            ("total", "£", "pounds"),
            ("indicators", name_of("columns", "indicators_used", lang), "int"),
            ("status", name_of("columns", "status", lang), "text"),
        ]
        footer = {name_column: name_of("words", "wales", lang), "total": count(float(services["total"].sum()))}
        title = name_of("words", "formula_services_title", lang, dataset=dataset.title(lang))
        tables.append(frame_table(services, columns, title=title, footer=footer))
    view = formula_view(dataset, lang, service)
    columns = [
        ("indicator", name_of("columns", "indicator", lang), "text"),
        ("label_en", name_of("columns", "label_en", lang), "text"),
        ("label_cy", name_of("columns", "label_cy", lang), "text"),
        ("weight", name_of("columns", "weight", lang), "number"),
        ("pounds", "£", "pounds"),
        ("weight_status", name_of("columns", "weight_status", lang), "text"),
        ("data_status", name_of("columns", "data_status", lang), "text"),
    ]
    totals = dict(services.select("service", "total").iter_rows())
    for (name,), group in view.group_by("service", maintain_order=True):
        title = name_of(
            "words",
            "formula_title",
            lang,
            service=dataset.service_name(name, lang),
            total=count(totals[name]),
        )
        tables.append(frame_table(group, columns, title=title))
    return tables
