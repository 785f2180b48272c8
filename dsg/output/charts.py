"""PNG charts (matplotlib, Agg backend), labelled in English or Welsh."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch

from dsg.errors import raise_if
from dsg.formula.params import CHANGE_POUNDS
from dsg.formula.params import on_floor as is_on_floor
from dsg.i18n import name_of
from dsg.output.files import chart_path_problems, writing
from dsg.output.screen import decomposition_title

MILLION = 1e6
# Colour-blind-safe palette (Okabe and Ito), one colour per cause.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
GAIN, LOSS, FLOORED = "#0072B2", "#D55E00", "#999999"


def save(figure, path: str | Path) -> Path:
    raise_if(chart_path_problems(path))
    target = Path(path)
    with writing(target) as temporary:
        # The temporary name does not end in .png, so say the format.
        figure.savefig(temporary, format="png", dpi=150, bbox_inches="tight", metadata={"Software": "dsg"})
    plt.close(figure)
    return target


def difference_chart(comparison, index: int, path: str | Path, lang: str = "en") -> Path:
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
    if floored.any():
        axes.legend(handles=[Patch(color=FLOORED, label=name_of("words", "chart_on_floor", lang))], loc="lower right")
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
    return save(figure, path)


def decomposition_chart(decomposition, scenario_label: str, path: str | Path, lang: str = "en") -> Path:
    """A stacked bar per council: each cause's part of the change (£ million), the total as a dot."""
    frame = decomposition.table(lang)
    names = frame["council"].to_list()
    figure, axes = plt.subplots(figsize=(10, 0.32 * len(names) + 2.0))
    positive = np.zeros(len(names))
    negative = np.zeros(len(names))
    for colour, cause in zip(PALETTE, decomposition.causes):
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
    return save(figure, path)


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
            bottom, height, colour = 0.0, value, "#444444"
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
    return save(figure, path)


def sweep_chart(result, path: str | Path, lang: str = "en") -> Path:
    """A line per council: % change against the weight, with the step where it reaches the floor marked."""
    figure, axes = plt.subplots(figsize=(10, 6.5))
    names = result.dataset.council_names(lang)
    colours = plt.get_cmap("tab20", 20)
    for i, name in enumerate(names):
        # 22 councils and 20 colours: the second round of colours is dashed.
        axes.plot(
            result.values,
            result.pct_change[:, i],
            color=colours(i % 20),
            linewidth=1.2,
            label=name,
            linestyle="-" if i < 20 else "--",
        )
        on_floor = is_on_floor(result.floor_topup[:, i])
        crossings = np.flatnonzero(on_floor[1:] != on_floor[:-1]) + 1
        for step in crossings:
            axes.scatter(
                result.values[step],
                result.pct_change[step, i],
                color=colours(i % 20),
                edgecolor="black",
                zorder=3,
                s=28,
            )
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
    service = result.dataset.service_name(result.service, lang)
    axes.set_xlabel(name_of("words", "sweep_axis", lang, indicator=result.indicator, service=service))
    axes.set_ylabel(name_of("words", "chart_pct_axis", lang))
    axes.set_title(name_of("words", "sweep_title", lang, indicator=result.indicator, service=service), fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7)
    return save(figure, path)
