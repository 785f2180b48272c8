"""On-screen rendering with rich: £ thousand, % to one decimal, a Wales row, words in en or cy."""

from __future__ import annotations

import shutil

import polars as pl
from rich.console import Console
from rich.table import Table

from dsg.export import largest_remainder, round_half_up
from dsg.formula.settlement import ALLOCATION_COLUMNS, MONEY_COLUMNS, Allocation
from dsg.i18n import message, term

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
    # Half away from zero, as Excel rounds; + 0.0 turns the -0 of a small loss into 0.
    return f"{round_half_up(value, 1000.0) / 1000 + 0.0:,.0f}"


def percent(value: float) -> str:
    return f"{value:.1f}"


def allocation_table(allocation: Allocation, lang: str = "en") -> Table:
    """The SPEC §4 table in £ thousand, rounded so that the rows add up to the Wales row."""
    frame = allocation.table(lang)
    columns = screen_columns(allocation)
    shown = frame.with_columns(
        pl.Series(column, largest_remainder(frame[column].to_numpy(), 1000.0)) for column in columns if column in MONEY_COLUMNS
    )
    totals = allocation.wales_totals()
    footer = {"council": term("words", "wales", lang), "pct_change": percent(100.0 * totals["change"] / totals["base_aef"])}
    footer.update({c: thousands(float(shown[c].sum())) for c in columns if c in MONEY_COLUMNS})
    kinds = {"council": "text", "pct_change": "pct", "rank": "int"}
    return frame_table(
        shown,
        [(c, term("screen", c, lang), kinds.get(c, "thousands")) for c in columns],
        title=allocation.dataset.title(lang),
        footer=footer,
        caption=term("words", "pounds_thousand", lang),
    )


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
    print_wide(allocation_table(allocation, lang), console)
    warnings = [
        f"[yellow]{term('words', 'warning', lang)}:[/yellow] {message(warning.code, lang, **warning.params)}"
        for warning in allocation.warnings
    ]
    print_lines([*settlement_summary(allocation, lang), *warnings], console)


def print_lines(lines, console: Console | None = None) -> None:
    """Lines under a table, unwrapped (a terminal wraps them itself)."""
    console = console or Console()
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True)


# --------------------------------------------------------------------------- generic tables

FORMATS = {
    "text": str,
    "thousands": thousands,
    "pounds": lambda v: f"{v:,.0f}",
    "pounds2": lambda v: f"{v:,.2f}",
    "pct": percent,
    "pct2": lambda v: f"{v:.2f}",
    "share": lambda v: f"{100 * v:.2f}",
    "ratio": lambda v: f"{v:.2f}",
    "int": lambda v: f"{int(v):,}",
    "signed_int": lambda v: f"{int(v):+d}" if v else "0",
    "number": lambda v: f"{v:,.6g}",
}


def frame_table(
    frame, columns: list[tuple[str, str, str]], title: str = "", footer: dict | None = None, caption: str = ""
) -> Table:
    """A rich table from a frame: ``columns`` are (column, header, format) with a FORMATS key.

    Figures never wrap; headers may. ``footer`` maps columns to already formatted text.
    """
    table = Table(title=title, caption=caption, show_footer=footer is not None, header_style="bold", footer_style="bold")
    for column, header, kind in columns:
        cells = ["" if v is None else FORMATS[kind](v) for v in frame[column].to_list()]
        foot = (footer or {}).get(column, "")
        table.add_column(
            header,
            footer=foot,
            justify="left" if kind == "text" else "right",
            min_width=max(len(text) for text in [*cells, foot, "-"]),
        )
    for row in zip(*(["" if v is None else FORMATS[kind](v) for v in frame[c].to_list()] for c, _, kind in columns)):
        table.add_row(*row)
    return table


def print_wide(table: Table, console: Console | None = None) -> None:
    """Print a table at its natural width.

    Figures are never squeezed: when the terminal (or a pipe's 80 columns) is too narrow,
    the table keeps its width and lines run on.
    """
    if console is None:
        needed = Console(width=1000).measure(table).maximum
        console = Console(width=max(shutil.get_terminal_size().columns, needed))
    console.print(table)


def label(column: str, lang: str) -> str:
    return term("columns", column, lang)


# --------------------------------------------------------------------------- compare


def comparison_tables(comparison, lang: str = "en", sort: str = "order", by_region: bool = False) -> list:
    """For each scenario: its table of councils (or regions) and the Wales summary lines."""
    blocks = []
    for index, summary in enumerate(comparison.wales_summary(lang)):
        title = message_text("comparison_title", lang, scenario=summary["scenario"], baseline=comparison.baseline_label)
        footer = {
            "council": term("words", "wales", lang),
            "region": term("words", "wales", lang),
            "aef_baseline": thousands(summary["aef_baseline"]),
            "aef": thousands(summary["aef"]),
            "difference": thousands(summary["difference"]),
            "pct_difference": percent(summary["pct_difference"]),
        }
        if by_region:
            frame = comparison.by_region(lang).filter(pl.col("scenario") == summary["scenario"])
            columns = [
                ("region", label("region", lang), "text"),
                ("councils", label("councils", lang), "int"),
                ("aef_baseline", label("aef_baseline", lang), "thousands"),
                ("aef", label("aef", lang), "thousands"),
                ("difference", label("difference", lang), "thousands"),
                ("pct_difference", label("pct_difference", lang), "pct"),
                ("floor_topup", label("floor_topup", lang), "thousands"),
            ]
            footer["floor_topup"] = thousands(float(frame["floor_topup"].sum()))
            footer["councils"] = str(int(frame["councils"].sum()))
            title = message_text("regions_title", lang, scenario=summary["scenario"])
        else:
            frame = comparison.scenario_table(index, lang, sort)
            columns = [
                ("council", label("council", lang), "text"),
                ("aef_baseline", label("aef_baseline", lang), "thousands"),
                ("aef", label("aef", lang), "thousands"),
                ("difference", label("difference", lang), "thousands"),
                ("pct_difference", label("pct_difference", lang), "pct"),
                ("floor_topup", label("floor_topup", lang), "thousands"),
                ("rank_change", label("rank_change", lang), "signed_int"),
            ]
            footer["floor_topup"] = thousands(float(frame["floor_topup"].sum()))
        table = frame_table(frame, columns, title=title, footer=footer, caption=term("words", "pounds_thousand", lang))
        lines = [
            f"{label('floor_cost_baseline', lang)}: £{summary['floor_cost_baseline']:,.0f}; "
            f"{label('floor_cost', lang)}: £{summary['floor_cost']:,.0f}",
            f"{label('gaining', lang)}: {summary['gaining']}; {label('losing', lang)}: {summary['losing']}; "
            f"{label('on_floor', lang)}: {summary['on_floor']}",
            f"{label('largest_gain_council', lang)}: {summary['largest_gain_council']} (£{summary['largest_gain']:+,.0f}); "
            f"{label('largest_loss_council', lang)}: {summary['largest_loss_council']} (£{summary['largest_loss']:+,.0f})",
        ]
        if by_region:
            lines.append(term("words", "regions_source", lang))
        blocks.append((table, lines))
    return blocks


def message_text(key: str, lang: str, **params) -> str:
    """A ``[words]`` entry with placeholders filled."""
    return term("words", key, lang).format(**params)


def decomposition_table(decomposition, scenario_label: str, lang: str = "en") -> tuple[Table, list[str]]:
    frame = decomposition.table(lang)
    measure = term("screen", decomposition.measure, lang)
    title = message_text(
        "decomposition_title", lang, measure=measure, scenario=scenario_label, method=term("causes", decomposition.method, lang)
    )
    columns = [("council", label("council", lang), "text")]
    columns += [(cause, term("causes", cause, lang), "thousands") for cause in decomposition.causes]
    columns.append(("total", term("causes", "total", lang), "thousands"))
    footer = {"council": term("words", "wales", lang)}
    footer.update({c: thousands(float(frame[c].sum())) for c in (*decomposition.causes, "total")})
    table = frame_table(frame, columns, title=title, footer=footer, caption=term("words", "pounds_thousand", lang))
    lines = [term("words", "decomposition_note" if decomposition.causes else "no_change", lang)]
    return table, lines


# --------------------------------------------------------------------------- explain


def explanation_tables(explanation, lang: str = "en") -> tuple[list[str], list[Table], list[str]]:
    """Header lines, the three tables (steps, services, indicators) and closing notes."""
    figures = explanation.figures
    head = [f"[bold]{message_text('explain_title', lang, council=explanation.name(lang))}[/bold] ({explanation.ons_code})"]
    if figures["population"]:
        head.append(f"{term('words', 'population', lang)}: {figures['population']:,.0f} ({100 * figures['population_share']:.2f} %)")
    head.append(f"{term('words', 'band_d_equivalents', lang)}: {figures['taxbase']:,.0f}")
    head.append(f"{term('words', 'notional_band_d', lang)}: £{figures['notional_band_d']:,.2f}")
    if figures["floor_level"] is not None:
        head.append(f"{term('words', 'floor_level', lang)} ({figures['floor_percent']:g} %): £{figures['floor_level']:,.0f}")

    steps = explanation.steps.with_columns(
        pl.col("key").replace_strict({k: term("steps", k, lang) for k in explanation.steps["key"]}).alias("step")
    )
    has_heads = figures["population"] is not None
    step_columns = [("step", label("step", lang), "text"), ("amount", "£", "pounds")]
    if has_heads:
        step_columns.append(("per_head", label("per_head", lang), "pounds2"))
    tables = [frame_table(steps, step_columns, title=term("words", "steps_title", lang))]

    services = explanation.services.with_columns(
        (pl.col("name_cy") if lang == "cy" else pl.col("service")).alias("label")
    )
    service_columns = [
        ("label", label("service", lang), "text"),
        ("iba", label("iba", lang) + " (£)", "pounds"),
        ("share", label("share", lang) + " %", "share"),
    ]
    if has_heads:
        service_columns += [
            ("per_head", label("per_head", lang), "pounds2"),
            ("wales_per_head", label("wales_per_head", lang), "pounds2"),
            ("index", label("index", lang), "ratio"),
        ]
    tables.append(frame_table(services, service_columns, title=term("words", "services_title", lang)))

    indicator_columns = [
        ("indicator", label("indicator", lang), "text"),
        ("value", label("value", lang), "number"),
        ("share", label("share", lang) + " %", "share"),
    ]
    if has_heads:
        indicator_columns += [
            ("population_share", label("population_share", lang) + " %", "share"),
            ("ratio", label("ratio", lang), "ratio"),
        ]
    indicator_columns.append(("council_pounds", label("council_pounds", lang), "pounds"))
    tables.append(frame_table(explanation.indicators, indicator_columns, title=term("words", "indicators_title", lang)))
    return head, tables, [term("words", "residual_note", lang)]


# --------------------------------------------------------------------------- grants


def grant_name(report_or_dataset, grant: str, lang: str) -> str:
    """A grant's name in ``lang`` from the dataset's grant catalogue (else as written)."""
    dataset = getattr(report_or_dataset, "dataset", report_or_dataset)
    catalogue = dataset.grant_catalogue
    if lang == "cy" and catalogue is not None:
        names = dict(catalogue.select("grant", "name_cy").iter_rows())
        return names.get(grant) or grant
    return grant


def catalogue_table(frame, dataset_name: str, lang: str = "en") -> Table:
    columns = [
        ("name", label("grant", lang), "text"),
        ("total", "£", "pounds"),
        ("year", label("year", lang), "text"),
        ("key", label("key", lang), "text"),
        ("key_status", label("key_status", lang), "text"),
        ("source", label("source", lang), "text"),
    ]
    footer = {"name": term("words", "wales", lang), "total": f"{float(frame['total'].sum()):,.0f}"}
    return frame_table(frame, columns, title=message_text("catalogue_title", lang, dataset=dataset_name), footer=footer)


def grant_report_tables(report, lang: str = "en") -> list[Table]:
    """Dehypothecation and consolidation per grant and year, the years, hypothecation levels."""
    tables = []
    caption = term("words", "pounds_thousand", lang)
    moves = report.dehypothecation(lang)
    yes, no = term("words", "yes", lang), term("words", "no", lang)
    for (grant, year), part in group_rows(moves):
        part = part.with_columns(pl.col("floor_protected").replace_strict({True: yes, False: no}, return_dtype=pl.String))
        columns = [
            ("council", label("council", lang), "text"),
            ("grant_before", label("grant_before", lang), "thousands"),
            ("aef_gain", label("aef_gain", lang), "thousands"),
            ("net", label("net", lang), "thousands"),
            ("floor_protected", label("floor_protected", lang), "text"),
        ]
        footer = {"council": term("words", "wales", lang)} | {c: thousands(float(part[c].sum())) for c in ("grant_before", "aef_gain", "net")}
        title = message_text("dehypothecation_title", lang, grant=grant_name(report, grant, lang), year=year or report.path.years[0])
        tables.append(frame_table(part, columns, title=title, footer=footer, caption=caption))
    for (grant, year), part in group_rows(report.consolidation(lang)):
        columns = [
            ("council", label("council", lang), "text"),
            ("old", label("old", lang), "thousands"),
            ("new", label("new", lang), "thousands"),
            ("change", label("change", lang), "thousands"),
            ("pct_change", label("pct_change", lang), "pct"),
        ]
        old, new = float(part["old"].sum()), float(part["new"].sum())
        footer = {
            "council": term("words", "wales", lang), "old": thousands(old), "new": thousands(new),
            "change": thousands(new - old), "pct_change": percent(100 * (new - old) / old) if old else "",
        }
        title = message_text("consolidation_title", lang, grant=grant_name(report, grant, lang), year=year or report.path.years[0])
        tables.append(frame_table(part, columns, title=title, footer=footer, caption=caption))
    tables.append(multiyear_table(report, lang))
    hypothecation = report.hypothecation(lang)
    wales = report.hypothecation_wales()
    columns = [
        ("council", label("council", lang), "text"),
        ("grants_before", label("grants_before", lang), "thousands"),
        ("level_before", label("level_before", lang), "pct"),
        ("grants_after", label("grants_after", lang), "thousands"),
        ("level_after", label("level_after", lang), "pct"),
    ]
    footer = {
        "council": term("words", "wales", lang),
        "grants_before": thousands(wales["grants_before"]), "level_before": percent(wales["level_before"]),
        "grants_after": thousands(wales["grants_after"]), "level_after": percent(wales["level_after"]),
    }
    tables.append(frame_table(hypothecation, columns, title=term("words", "hypothecation_title", lang), footer=footer, caption=caption))
    return tables


def group_rows(frame) -> list[tuple[tuple[str, str], "pl.DataFrame"]]:
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
    columns = [("council", label("council", lang), "text")]
    footer = {"council": term("words", "wales", lang)}
    wales = report.multiyear_wales()
    for index, year in enumerate(years):
        part = frame.filter(pl.col("year") == year)
        wide = wide.with_columns(
            pl.Series(f"aef_{index}", largest_remainder(part["aef"].to_numpy(), 1000.0)),
            pl.Series(f"pct_{index}", part["pct_change"].to_numpy()),
        )
        columns += [(f"aef_{index}", f"{term('screen', 'aef', lang)} {year}", "thousands"), (f"pct_{index}", f"% {year}", "pct")]
        footer[f"aef_{index}"] = thousands(float(wide[f"aef_{index}"].sum()))
        footer[f"pct_{index}"] = percent(wales["pct_change"][index])
    table = frame_table(wide, columns, title=term("words", "multiyear_title", lang), footer=footer,
                        caption=term("words", "pounds_thousand", lang))
    return table


def multiyear_lines(report, lang: str = "en") -> list[str]:
    """Per year: the AEF shared by the formula and the floor cost."""
    lines = []
    for row in report.multiyear_wales().iter_rows(named=True):
        lines.append(
            f"{row['year']}: {term('words', 'aef_total', lang)} £{row['aef_total']:,.0f}; "
            f"{term('words', 'floor_cost', lang)} £{row['floor_cost']:,.0f}"
        )
    return lines


# --------------------------------------------------------------------------- robustness


def sweep_frame(result, lang: str = "en"):
    """Council x step % change, one column per weight value."""
    from dsg.formula.compare import unique_labels

    frame = pl.DataFrame({"council": result.dataset.council_names(lang)})
    names = unique_labels([f"{value:.4g}" for value in result.values])  # close weights can print alike
    return frame.with_columns(pl.Series(name, result.pct_change[step]) for step, name in enumerate(names))


def sweep_table(result, lang: str = "en") -> Table:
    frame = sweep_frame(result, lang)
    service = result.dataset.service_name(result.service, lang)
    title = message_text("sweep_title", lang, service=service, indicator=result.indicator)
    columns = [("council", label("council", lang), "text")] + [(c, c, "pct") for c in frame.columns[1:]]
    return frame_table(frame, columns, title=title, caption=term("words", "sweep_caption", lang))


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
    columns = [("council", label("council", lang), "text")]
    columns += [(c, label(c, lang), "pct2") for c in frame.columns[2:-1]]
    columns.append(("probability_on_floor", label("probability_on_floor", lang), "ratio"))
    title = message_text("montecarlo_title", lang, samples=f"{result.samples:,}", seed=result.seed,
                         concentration=f"{result.concentration:g}", noise=f"{result.indicator_noise:g}")
    return frame_table(frame, columns, title=title)
