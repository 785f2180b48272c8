"""Charts for papers (matplotlib, Agg backend): PNG, SVG or PDF by the file's extension,
labelled in English or Welsh, each with a caption line saying where its figures come from and
what in them is illustrative. One colour per cause in every chart, from a colour-blind-safe
palette (Okabe and Ito's, with two of Tol's for the ninth cause and the floor)."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch

from dsg.errors import raise_if
from dsg.formula.params import CHANGE_POUNDS
from dsg.formula.params import on_floor as is_on_floor
from dsg.i18n import indicator_label, name_of
from dsg.output.files import chart_path_problems, writing
from dsg.output.screen import decomposition_title

# SVG keeps its words as text, so that a chart in a paper can be searched, read aloud and
# translated; PDF embeds its fonts as TrueType.
matplotlib.rcParams["svg.fonttype"] = "none"
matplotlib.rcParams["pdf.fonttype"] = 42
# SVG element ids from a fixed salt, not a random one: the same inputs give the same file.
matplotlib.rcParams["svg.hashsalt"] = "dsg"

MILLION = 1e6
# Each cause keeps its colour in every chart (the order of dsg.analysis.decompose.CAUSES).
CAUSE_COLOURS = {
    "services": "#0072B2",
    "weights": "#E69F00",
    "indicators": "#009E73",
    "quantum": "#CC79A7",
    "taxbase": "#56B4E9",
    "fixed": "#882255",
    "base": "#F0E442",
    "ndr": "#44AA99",
    "floor_cap": "#D55E00",
}
GAIN, LOSS, FLOORED, OTHERS, TOTAL = "#0072B2", "#D55E00", "#999999", "#C8C8C8", "#444444"
# Councils highlighted on a sweep: Okabe and Ito's colours that read on white (no yellow);
# beyond seven, matplotlib's tab20.
HIGHLIGHTS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
# What each format's metadata may hold: the tool that made it, and no date (so that the same
# inputs give the same file).
METADATA = {
    "png": {"Software": "dsg"},
    "svg": {"Creator": "dsg", "Date": None},
    "pdf": {"Creator": "dsg", "CreationDate": None},
}


def save(figure, path: str | Path) -> Path:
    raise_if(chart_path_problems(path))
    target = Path(path)
    kind = target.suffix.lower().lstrip(".")
    with writing(target) as temporary:
        # The temporary name does not end in the format's extension, so say the format.
        figure.savefig(temporary, format=kind, dpi=150, bbox_inches="tight", metadata=METADATA[kind])
    plt.close(figure)
    return target


def svg_markup(figure) -> str:
    """A figure as an ``<svg>`` element to place inside an HTML page (no XML prologue)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata=METADATA["svg"])
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def caption(figure, dataset, lang: str, comparing: str = "", grants: bool = False) -> None:
    """The line under a chart: where its figures come from (dsg, the dataset), which scenario
    against which baseline, and what in them is illustrative."""
    from dsg.analysis.caveats import caveat_summary
    from dsg.output.provenance import dsg_version

    source = name_of(
        "words", "chart_source", lang, version=dsg_version(), dataset=dataset.name, title=dataset.title(lang)
    )
    lines = [f"{source}. {comparing}" if comparing else source]
    caveat = caveat_summary(dataset, lang, grants)
    if caveat:
        lines.append(caveat)
    text = "\n".join(textwrap.fill(line, 150) for line in lines)
    # Under everything already drawn (rotated tick labels, a legend below the axes), so that
    # nothing overlaps it; the saved image grows to hold it.
    box = figure.get_tightbbox(figure.canvas.get_renderer())
    left, bottom = box.x0 / figure.get_figwidth(), box.y0 / figure.get_figheight()
    figure.text(left, bottom - 0.02, text, ha="left", va="top", fontsize=6.5, color="#333333")


def against(scenario: str, baseline: str, lang: str) -> str:
    return f"{scenario} {name_of('words', 'against', lang)} {baseline}"


def difference_chart(comparison, index: int, path: str | Path, lang: str = "en") -> Path:
    """:func:`difference_figure`, saved to ``path`` (PNG, SVG or PDF by its extension)."""
    return save(difference_figure(comparison, index, lang), path)


def difference_figure(comparison, index: int, lang: str = "en"):
    """Each council's difference from the baseline, as the table counts it, sorted: the % change
    in AEF, or, when a side moves specific grants, the net change (AEF and grants) in £ million.
    Councils on the floor under the scenario are grey."""
    net = comparison.moves_grants
    column = "net_difference" if net else "pct_difference"
    table = comparison.scenario_table(index, lang).sort(column, maintain_order=True)
    names = table["council"].to_list()
    values = table[column].to_numpy() / (MILLION if net else 1.0)
    floored = is_on_floor(table["floor_topup"].to_numpy())
    figure, axes = plt.subplots(figsize=(9, 0.32 * len(names) + 1.6))
    colours = [FLOORED if held else (GAIN if value >= 0 else LOSS) for value, held in zip(values, floored)]
    axes.barh(names, values, color=colours)
    # The legend names every colour drawn.
    shown = set(colours)
    handles = [
        Patch(color=colour, label=name_of("words", word, lang))
        for colour, word in ((GAIN, "chart_gain"), (LOSS, "chart_loss"), (FLOORED, "chart_on_floor"))
        if colour in shown
    ]
    axes.legend(handles=handles, loc="lower right", fontsize=8)
    for y, value in enumerate(values):
        axes.annotate(
            f"{value:+.1f}" if net else f"{value:+.2f}",
            (value, y),
            xytext=(3 if value >= 0 else -3, 0),
            textcoords="offset points",
            ha="left" if value >= 0 else "right",
            va="center",
            fontsize=7,
        )
    axis = "chart_net_axis" if net else "chart_difference_axis"
    axes.set_xlabel(name_of("words", axis, lang, baseline=comparison.baseline_label))
    axes.set_title(
        name_of(
            "words",
            "chart_difference_title",
            lang,
            scenario=comparison.labels[index],
            baseline=comparison.baseline_label,
        ),
        fontsize=10,
    )
    axes.axvline(0, color="black", linewidth=0.5)
    axes.grid(axis="x", alpha=0.3)
    axes.margins(x=0.15)
    scenario = comparison.scenarios[index].dataset
    comparing = against(comparison.labels[index], comparison.baseline_label, lang)
    caption(figure, scenario, lang, comparing, grants=net)
    return figure


def decomposition_chart(
    decomposition, scenario_label: str, path: str | Path, lang: str = "en", dataset=None, baseline_label: str = ""
) -> Path:
    """:func:`decomposition_figure`, saved to ``path`` (PNG, SVG or PDF by its extension)."""
    return save(decomposition_figure(decomposition, scenario_label, lang, dataset, baseline_label), path)


def decomposition_figure(decomposition, scenario_label: str, lang: str = "en", dataset=None, baseline_label: str = ""):
    """A stacked bar per council: each cause's part of the change (£ million), the total as a dot."""
    frame = decomposition.table(lang)
    names = frame["council"].to_list()
    figure, axes = plt.subplots(figsize=(10, 0.32 * len(names) + 2.0))
    positive = np.zeros(len(names))
    negative = np.zeros(len(names))
    for cause in decomposition.causes:
        colour = CAUSE_COLOURS[cause]
        values = frame[cause].to_numpy() / MILLION
        left = np.where(values >= 0, positive, negative)
        axes.barh(names, values, left=left, color=colour, label=name_of("causes", cause, lang))
        positive += np.maximum(values, 0)
        negative += np.minimum(values, 0)
    axes.scatter(
        frame["total"].to_numpy() / MILLION,
        names,
        color="black",
        zorder=3,
        s=14,
        label=name_of("causes", "total", lang),
    )
    axes.axvline(0, color="black", linewidth=0.5)
    axes.invert_yaxis()
    axes.set_xlabel(name_of("words", "chart_decomposition_axis", lang))
    axes.set_title(decomposition_title(decomposition, scenario_label, lang))
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.06 - 0.3 / max(len(names), 1)), ncol=3, fontsize=8)
    # Limits from the stacks themselves: a cause worth nothing still draws a bar of no width at
    # the end of each stack, whose "sticky" edge would stop matplotlib's margin there and cut
    # the longest bar at the frame.
    totals = frame["total"].to_numpy() / MILLION
    low, high = min(negative.min(), totals.min(), 0.0), max(positive.max(), totals.max(), 0.0)
    pad = 0.05 * (high - low) or 1.0
    axes.set_xlim(low - pad, high + pad)
    axes.grid(axis="x", alpha=0.3)
    if dataset is not None:
        caption(figure, dataset, lang, against(scenario_label, baseline_label, lang) if baseline_label else "")
    return figure


def waterfall_chart(explanation, path: str | Path, lang: str = "en") -> Path:
    """From SSA to AEF for one council: each service's IBA and the residual build SSA, then
    council tax comes off and the floor and cap adjust, in £ million."""
    steps = dict(explanation.steps.select("key", "amount").iter_rows())
    services = explanation.services
    dataset = explanation.allocation.dataset
    names = [dataset.service_name(s, lang) for s in services["service"]]
    bars: list[tuple[str, float, str]] = [(n, v, "add") for n, v in zip(names, services["iba"].to_list())]
    bars.append((name_of("steps", "fixed", lang), steps["fixed"], "add"))
    bars.append((name_of("screen", "ssa", lang), steps["ssa"], "total"))
    bars.append((name_of("steps", "assumed_council_tax", lang), -steps["assumed_council_tax"], "add"))
    bars.append((name_of("screen", "aef_formula", lang).replace("\n", " "), steps["aef_formula"], "total"))
    for key, sign in (("floor_topup", 1), ("cap_reduction", -1), ("self_funding", -1)):
        if abs(steps[key]) >= CHANGE_POUNDS:
            bars.append((name_of("steps", key, lang), sign * steps[key], "add"))
    bars.append((name_of("screen", "aef", lang), steps["aef"], "total"))

    figure, axes = plt.subplots(figsize=(max(8, 0.9 * len(bars)), 5))
    running = 0.0
    top = 0.0
    for x, (_name, value, kind) in enumerate(bars):
        if kind == "total":
            bottom, height, colour = 0.0, value, TOTAL
            running = value
        else:
            bottom, height = running, value
            colour = GAIN if value >= 0 else LOSS
            running += value
        axes.bar(x, height / MILLION, bottom=bottom / MILLION, color=colour)
        upper = max(bottom, bottom + height)
        top = max(top, upper)
        axes.annotate(
            f"{value / MILLION:,.1f}",
            (x, upper / MILLION),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            fontsize=7,
        )
    axes.set_ylim(top=1.08 * top / MILLION)
    axes.set_xticks(range(len(bars)), [b[0] for b in bars], rotation=35, ha="right", fontsize=8)
    axes.set_ylabel(name_of("words", "chart_waterfall_axis", lang))
    axes.set_title(name_of("words", "explain_title", lang, council=explanation.name(lang)))
    axes.grid(axis="y", alpha=0.3)
    handles = [
        Patch(color=GAIN, label=name_of("words", "chart_adds", lang)),
        Patch(color=LOSS, label=name_of("words", "chart_takes_away", lang)),
        Patch(color=TOTAL, label=name_of("words", "chart_subtotal", lang)),
    ]
    axes.legend(handles=handles, loc="upper right", fontsize=8)
    caption(figure, dataset, lang)
    return save(figure, path)


def sweep_chart(result, path: str | Path, lang: str = "en", highlight=()) -> Path:
    """A line per council: % change against the weight, the step where it goes onto or off
    the floor marked, and the weight the formula has now. Councils in ``highlight`` (indexes)
    are drawn in colour and named in the legend, the rest in grey; with none, all in colour."""
    figure, axes = plt.subplots(figsize=(10, 6.5))
    names = result.dataset.council_names(lang)
    chosen = list(highlight) or list(range(len(names)))
    palette = plt.get_cmap("tab20")
    colours = (lambda r: HIGHLIGHTS[r]) if len(chosen) <= len(HIGHLIGHTS) else (lambda r: palette(r % 20))
    order = [i for i in range(len(names)) if i not in chosen] + chosen  # grey first, underneath
    for i in order:
        lit = i in chosen
        rank = chosen.index(i) if lit else 0
        colour = colours(rank) if lit else OTHERS
        axes.plot(
            result.values,
            result.pct_change[:, i],
            color=colour,
            linewidth=1.4 if lit else 0.9,
            label=names[i] if lit else None,
            # More than 20 councils in colour: the second round of colours is dashed.
            linestyle="--" if lit and rank >= 20 else "-",
            zorder=2 if lit else 1,
        )
        on_floor = is_on_floor(result.floor_topup[:, i])
        crossings = np.flatnonzero(on_floor[1:] != on_floor[:-1]) + 1
        for step in crossings:
            axes.scatter(
                result.values[step], result.pct_change[step, i], color=colour, edgecolor="black", zorder=3, s=28
            )
    if len(chosen) < len(names):
        axes.plot([], [], color=OTHERS, linewidth=0.9, label=name_of("words", "chart_other_councils", lang))
    axes.scatter([], [], color="white", edgecolor="black", s=28, label=name_of("words", "chart_floor_crossed", lang))
    floor = result.dataset.settlement.floor_percent
    if floor is not None:
        axes.axhline(
            floor,
            color="black",
            linestyle="--",
            linewidth=1,
            label=name_of("words", "chart_floor", lang, value=f"{floor:g}"),
        )
    current = result.current_weight
    axes.axvline(
        current,
        color="#555555",
        linestyle=":",
        linewidth=1.2,
        label=name_of("words", "chart_current_weight", lang, value=f"{current:g}"),
    )
    service = result.dataset.service_name(result.service, lang)
    indicator = indicator_label(result.indicator, lang)
    axes.set_xlabel(name_of("words", "sweep_axis", lang, indicator=indicator, service=service))
    axes.set_ylabel(name_of("words", "chart_pct_axis", lang))
    axes.set_title(name_of("words", "sweep_title", lang, indicator=indicator, service=service), fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7)
    caption(figure, result.dataset, lang)
    return save(figure, path)
