"""``dsg report``: one self-contained HTML page for an impact-assessment annex or a DSG paper.

The page holds, for each scenario against the baseline: the headline figures, the table of
councils, the breakdown by region, the charts (inline SVG), the decomposition when asked, the
caveats of every illustrative input and the provenance. Words come from the glossary in the
chosen language; the template is Jinja2 with autoescaping; no script is needed to read it, and
its print style gives a clean A4 document from the browser's "print to PDF".
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from dsg.analysis.caveats import caveat_lines
from dsg.errors import raise_if
from dsg.formula.params import on_floor
from dsg.i18n import glossary, name_of
from dsg.output.files import output_path_problems, writing
from dsg.output.formats import SCREEN, compact_pounds, pounds, signed_figure, signed_pounds
from dsg.output.provenance import comparison_provenance, dsg_version, fingerprint, stamped

REPORT_FORMATS = (".html", ".htm")


def report_path_problems(path: str | Path):
    return output_path_problems(path, REPORT_FORMATS)


# The page's cells: whole pounds as on screen, and signed figures (+2.72, -25.74).
money = SCREEN["pounds"]


def difference_cells(row: dict) -> dict:
    """The baseline AEF, the AEF, the difference and the % difference of a council's or a
    region's row, as the page shows them."""
    return {
        "aef_baseline": money(row["aef_baseline"]),
        "aef": money(row["aef"]),
        "difference": money(row["difference"]),
        "pct": signed_figure(row["pct_difference"]),
    }


def scenario_section(
    comparison, index: int, lang: str, table: pl.DataFrame, summary: dict, regions: pl.DataFrame, decomposition
) -> dict:
    """The figures of one scenario's part of the page, formatted for reading: ``table`` is
    the rounded long table, ``summary`` the scenario's Wales summary and ``regions`` the
    totals by region of every scenario."""
    from dsg.output.charts import decomposition_figure, difference_figure, svg_markup

    label = comparison.labels[index]
    allocation = comparison.scenarios[index]
    rows = table.filter(pl.col("scenario") == label)
    funding = allocation.dataset.settlement.floor_funding
    councils = [
        {
            "name": r["council"],
            "region": r["region"],
            **difference_cells(r),
            "per_head": signed_figure(r["difference_per_head"]),
            "per_band_d": signed_figure(r["difference_per_band_d"]),
            "on_floor": bool(on_floor(r["floor_topup"])),
            "loss": r["difference"] < 0,
            "net": money(r["net_difference"]),
            "net_loss": r["net_difference"] < 0,
        }
        for r in rows.iter_rows(named=True)
    ]
    regions = regions.filter(pl.col("scenario") == label)
    section = {
        "label": label,
        "headline": [
            (name_of("columns", "aef", lang), f"{pounds(summary['aef'])} ({compact_pounds(summary['aef'])})"),
            (
                name_of("columns", "difference", lang),
                f"{signed_pounds(summary['difference'])} ({summary['pct_difference']:+.2f} %)",
            ),
            (
                name_of("columns", "floor_cost", lang),
                f"{pounds(summary['floor_cost'])}: {name_of('words', f'report_floor_paid_{funding}', lang)}",
            ),
            *(
                [(name_of("columns", "net_difference", lang), signed_pounds(summary["net_difference"]))]
                if comparison.moves_grants
                else []
            ),
            (name_of("columns", "gaining", lang), str(summary["gaining"])),
            (name_of("columns", "losing", lang), str(summary["losing"])),
            (name_of("columns", "on_floor", lang), str(summary["on_floor"])),
        ],
        "councils": councils,
        # A scenario that moves grants is judged on the net change, AEF and grants together.
        "net": comparison.moves_grants,
        "wales": {
            "aef_baseline": money(float(rows["aef_baseline"].sum())),
            "aef": money(float(rows["aef"].sum())),
            "difference": money(float(rows["difference"].sum())),
            "pct": signed_figure(summary["pct_difference"]),
            "net": money(float(rows["net_difference"].sum())),
        },
        "regions": [
            {"name": r["region"], "councils": r["councils"], **difference_cells(r)}
            for r in regions.iter_rows(named=True)
        ],
        "chart": svg_markup(difference_figure(comparison, index, lang)),
        "caveats": caveat_lines(allocation.dataset, lang, grants=comparison.moves_grants),
        "decomposition": None,
    }
    if decomposition is not None:
        parts = decomposition.table(lang)
        section["decomposition"] = {
            "causes": [name_of("causes", c, lang) for c in (*decomposition.causes, "total")],
            "method": name_of("causes", decomposition.method, lang),
            "rows": [
                {"name": r["council"], "values": [money(r[c]) for c in (*decomposition.causes, "total")]}
                for r in parts.iter_rows(named=True)
            ],
            "chart": svg_markup(
                decomposition_figure(decomposition, label, lang, allocation.dataset, comparison.baseline_label)
            ),
        }
    return section


def report_html(comparison, lang: str = "en", decompositions=None) -> str:
    """The page, as text."""
    import jinja2
    from markupsafe import Markup

    from dsg.output.export import rounded_comparison

    table = rounded_comparison(comparison, lang)
    record = comparison_provenance(comparison)
    stamp = stamped(record)
    dataset = comparison.baseline.dataset
    summaries, regions = comparison.wales_summary(lang), comparison.by_region(lang)
    sections = [
        scenario_section(
            comparison, i, lang, table, summaries[i], regions, decompositions[i] if decompositions else None
        )
        for i in range(len(comparison.labels))
    ]
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("dsg.output", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    words = {key: entry[lang] for key, entry in glossary()["report"].items()}
    columns = {key: entry[lang] for key, entry in glossary()["columns"].items()}
    # The screen's short headers, on one line each, where a column is narrow.
    short = {key: entry[lang].replace("\n", " ") for key, entry in glossary()["screen"].items()}
    return environment.get_template("report.html.j2").render(
        lang=lang,
        words=words,
        columns=columns,
        short=short,
        title=name_of("report", "title", lang, baseline=comparison.baseline_label),
        dataset_title=dataset.title(lang),
        dataset_name=dataset.name,
        baseline=comparison.baseline_label,
        sections=sections,
        provenance=[
            (words["dsg_version"], dsg_version()),
            (words["dataset"], f"{dataset.name} ({str(record.get('sha256', ''))[:12]})"),
            (words["written"], stamp["written"]),
            (words["fingerprint"], fingerprint(record)),
        ],
        safe_svg=Markup,  # dsg's own charts, drawn here: the one thing placed unescaped
    )


def write_report(comparison, path: str | Path, lang: str = "en", decompositions=None) -> Path:
    """Write :func:`report_html` to ``path`` (.html), atomically."""
    raise_if(report_path_problems(path))
    target = Path(path)
    text = report_html(comparison, lang, decompositions)
    with writing(target) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return target
