"""The ``dsg`` command: parses options, calls the pipeline, renders. No arithmetic here."""

from __future__ import annotations

import os
import signal
import sys

from dsg.i18n import LANGUAGES, default_language, name_of, unsupported_language
from dsg.interrupts import Interrupted, handle_interrupts, interruption, language_in, on_interrupt

# Run as the ``dsg`` program (dsg.start has put a deferring handler in place), Ctrl-C is
# handled from here on, before the imports below; as a library, only while a command runs
# (see DsgGroup.main).
if hasattr(signal.getsignal(signal.SIGINT), "pending"):
    handle_interrupts()

from contextlib import contextmanager
from functools import wraps
from pathlib import Path

import click

from dsg.analysis.options import MEASURES, METHODS, SORTS, TARGETS
from dsg.errors import InputError, Problem, raise_if
from dsg.output.files import (
    GRANT_REPORT_FILES,
    chart_path_problems,
    files_problems,
    output_path_problems,
    overwrite_problems,
    remove_own_temporaries,
)

# Heavy libraries (polars, numba, matplotlib) are imported inside the commands, so that
# --help and a refusal of bad input answer at once.


def reports_input_errors(command):
    """Turn :class:`InputError` into the full list of problems on stderr and exit status 2."""

    @wraps(command)
    def wrapper(*args, lang=None, **kwargs):
        if lang is None and unsupported_language() is not None:
            # Said in English: the language asked for is the one we do not have.
            problem = Problem("DSG_LANG", "unsupported_language", params={"value": unsupported_language()})
            click.echo(f"{name_of('words', 'problems_found', 'en')}\n  {problem.render('en')}", err=True)
            sys.exit(2)
        lang = lang or default_language()
        try:
            return command(*args, lang=lang, **kwargs)
        except InputError as error:
            click.echo(name_of("words", "problems_found", lang), err=True)
            for problem in error.problems:
                click.echo(f"  {problem.render(lang)}", err=True)
            sys.exit(2)

    return wrapper


lang_option = click.option(
    "--lang",
    type=click.Choice(LANGUAGES, case_sensitive=False),
    default=None,
    help="Language of names, headers and messages: en or cy (any case). Default: $DSG_LANG, else en.",
)
data_option = click.option(
    "--data",
    type=click.Path(),
    default=None,
    help="Dataset directory (SPEC §2). Default: the embedded wales-2025-26.",
)
scenario_option = click.option(
    "--scenario",
    type=click.Path(),
    default=None,
    help="Scenario TOML file (SPEC §5) applied to the dataset.",
)


format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(("table", "csv", "json"), case_sensitive=False),
    default="table",
    show_default=True,
    help="What goes to standard output: the table on screen, or the data as CSV or JSON (for a pipe).",
)


def say_table(frame, fmt: str) -> None:
    """The data itself on standard output, for ``--format csv`` or ``json``."""
    from dsg.output.export import table_text

    click.echo(table_text(frame, fmt.lower()), nl=False)


def dataset_options(command):
    """--data, --scenario and --lang, shared by every command that settles one scenario."""
    return data_option(scenario_option(lang_option(command)))


def path_problems(out=None, chart=None) -> list:
    """Output paths that cannot be written, or would replace an input of the command, found
    before any work is done."""
    problems = output_path_problems(out) if out is not None else []
    if chart is not None:
        problems += chart_path_problems(chart)
    params = click.get_current_context().params
    inputs = [params.get("data"), params.get("scenario"), *params.get("files", ())]
    inputs = [p for p in inputs if p is not None and p != "default" and Path(p).exists()]
    return problems + overwrite_problems([p for p in (out, chart) if p is not None], inputs)


def say_written(path, lang: str, fmt: str = "table") -> None:
    """Say a file was written: on stdout, or on stderr when stdout carries data (--format)."""
    click.echo(f"{name_of('words', 'written', lang)}: {path}", err=fmt != "table")


def cannot_write_output(error: OSError, args) -> None:
    """One problem on stderr and exit status 2 when the output cannot be written (or a path
    the checks before did not foresee, named by the error)."""
    lang = language_in(args)
    if error.filename is None:  # the terminal or pipe: nothing more may be written to it
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        where = name_of("words", "standard_output", lang)
    else:
        where = str(error.filename)
    problem = Problem(where, "cannot_write", params={"reason": error.strerror or str(error)})
    try:
        click.echo(f"{name_of('words', 'problems_found', lang)}\n  {problem.render(lang)}", err=True)
    except OSError:
        pass  # stderr gone as well: the exit status says it
    sys.exit(2)


class DsgGroup(click.Group):
    """The ``dsg`` group: Ctrl-C while a command runs prints one line and exits 130, after the
    temporary files are removed and any file being replaced is left as it was."""

    def main(self, args=None, *rest, **kwargs):
        previous = handle_interrupts(sys.argv[1:] if args is None else args)
        try:
            try:
                result = super().main(args, *rest, **kwargs)
            finally:
                sys.stdout.flush()  # here, where a failure can be reported, not at Python's exit
        except OSError as error:
            # Files are written through dsg.output.files, which turns failures into problems;
            # what is left is the terminal or pipe (``dsg run > /dev/full``), or a path that
            # no check foresaw (the error names it).
            remove_own_temporaries()
            cannot_write_output(error, sys.argv[1:] if args is None else args)
        except SystemExit as ending:
            if isinstance(ending, Interrupted) or interruption["said"]:
                remove_own_temporaries()  # any that an interrupted clean-up left
                raise Interrupted(130) from None
            raise
        finally:
            if previous is not None:
                handler, sys.unraisablehook = previous
                if handler is not on_interrupt:
                    signal.signal(signal.SIGINT, handler)  # called as a library: as it was
                else:
                    # The dsg program, its work done: Python's own teardown follows, during
                    # which Ctrl-C would kill it without a word, so it is ignored.
                    signal.signal(signal.SIGINT, signal.SIG_IGN)
        if interruption["said"]:  # swallowed where it landed, and never raised again
            raise Interrupted(130)
        return result


@click.group(
    cls=DsgGroup,
    epilog="""\b
Examples:
  dsg run
  dsg run --scenario more-deprivation.toml --out allocation.xlsx
  dsg run --lang cy
  dsg compare deprivation.toml --decompose --out compare.xlsx
  dsg explain Cardiff --scenario deprivation.toml
  dsg grants report --scenario grants.toml --out results/
""",
)
@click.version_option(package_name="dsg")
def main():
    """dsg: simulate the Welsh local government revenue settlement.

    Recompute each council's Standard Spending Assessment, Aggregate External Finance,
    floor and cap from a dataset and an optional scenario; compare scenarios, split the
    changes by cause and explain any council's figures.
    """


@main.command(
    epilog="""\b
Examples:
  dsg run                                      the default 2025-26 settlement
  dsg run --scenario floor-3.5.toml            with a scenario applied
  dsg run --out allocation.csv                 also write CSV (or .parquet, .xlsx)
  dsg run --data my-dataset/ --lang cy         another dataset, in Welsh
"""
)
@dataset_options
@click.option("--out", type=click.Path(), default=None, help="Write the allocation table: .csv, .parquet or .xlsx.")
@format_option
@reports_input_errors
def run(data, scenario, out, fmt, lang):
    """Settle one scenario and show the allocation to each council.

    Shows SSA, assumed council tax, formula AEF, floor and cap, AEF, NDR, RSG and the
    change against the adjusted base, in £ thousand, with a Wales row and the floor cost.
    """
    from dsg import pipeline

    result = pipeline.run(data, scenario, path_problems(out))
    from dsg.output.screen import multiyear_lines, multiyear_table, print_allocation, print_lines, print_wide

    if fmt != "table":
        from dsg.output.export import allocation_table

        say_table(allocation_table(list(result.allocations), lang, list(result.years)), fmt)
    else:
        print_allocation(result.allocation, lang)
        if result.multi_year:
            # The first year above, the path below.
            report = pipeline.report_of(result)
            print_wide(multiyear_table(report, lang), lang=lang)
            print_lines(multiyear_lines(report, lang))
    if out is not None:
        from dsg.output.export import write_allocation

        say_written(write_allocation(list(result.allocations), out, lang, list(result.years)), lang, fmt)


@main.command(
    epilog="""\b
Examples:
  dsg compare floor-3.5.toml                   a scenario against the default
  dsg compare floor-3.5.toml deprivation.toml  deprivation.toml against floor-3.5.toml
  dsg compare default a.toml b.toml --sort difference
  dsg compare deprivation.toml --decompose --chart causes.png
  dsg compare deprivation.toml --by region --lang cy
  dsg compare a.toml b.toml --out compare.xlsx  the workbook for finance teams
"""
)
@click.argument("files", nargs=-1, required=True, metavar="[BASELINE] SCENARIO...")
@data_option
@lang_option
@click.option(
    "--sort",
    type=click.Choice(SORTS),
    default="order",
    show_default=True,
    help="Row order: council order, £ difference or % difference (largest gain first).",
)
@click.option(
    "--by",
    "by",
    type=click.Choice(["council", "region"]),
    default="council",
    show_default=True,
    help="One row per council, or per region (the four Corporate Joint Committee areas).",
)
@click.option("--decompose", is_flag=True, help="Split each council's change in AEF by cause.")
@click.option(
    "--method",
    type=click.Choice(METHODS),
    default="shapley",
    show_default=True,
    help="Decomposition method: order-free Shapley values or sequential steps.",
)
@click.option(
    "--measure",
    type=click.Choice(MEASURES),
    default="aef",
    show_default=True,
    help="What --decompose splits: the change in AEF or in RSG.",
)
@click.option(
    "--chart",
    type=click.Path(),
    default=None,
    help="Draw a chart (.png, .svg or .pdf): each council's difference from the baseline, or with --decompose the causes per council.",
)
@click.option(
    "--out",
    type=click.Path(),
    default=None,
    help="Write .xlsx (the full workbook), or .csv / .parquet (the long table).",
)
@format_option
@reports_input_errors
def compare(files, data, lang, sort, by, decompose, method, measure, chart, out, fmt):
    """Who gains and who loses: scenarios against a baseline.

    With one file, it is compared with the dataset as it stands. With more, the first is the
    baseline and the rest are compared with it; write "default" as the first to compare
    several scenarios with the dataset. Each row: AEF under the baseline and the scenario,
    the difference in £ and %, the floor top-up and the change in rank.
    """
    from dsg import pipeline

    baseline, scenarios = (None, list(files)) if len(files) == 1 else (files[0], list(files[1:]))
    # Every chart file is checked before any work, so that none is written when one cannot be.
    charts = numbered_paths(chart, len(scenarios)) if chart is not None else []
    problems = path_problems(out) + [problem for path in charts for problem in chart_path_problems(path)]
    comparison = pipeline.compare(scenarios, baseline, data, problems)
    from dsg.analysis.decompose import decompose_comparison
    from dsg.output.screen import comparison_tables, decomposition_table, print_lines, print_wide

    parts = decompose_comparison(comparison, method, measure) if decompose else None
    if fmt != "table":
        # The long table, as --out x.csv writes it (with the causes under --decompose).
        from dsg.output.export import rounded_comparison

        say_table(rounded_comparison(comparison, lang, parts), fmt)
    else:
        for table, lines in comparison_tables(comparison, lang, sort, by_region=by == "region"):
            print_wide(table, lang=lang)
            print_lines(lines)
        if parts is not None:
            for label, decomposition in zip(comparison.labels, parts):
                table, lines = decomposition_table(decomposition, label, lang)
                print_wide(table, lang=lang)
                print_lines(lines)
    if chart is not None:
        from dsg.output.charts import decomposition_chart, difference_chart

        for index, path in enumerate(charts):
            if parts is not None:
                label, side = comparison.labels[index], comparison.scenarios[index].dataset
                drawn = decomposition_chart(parts[index], label, path, lang, side, comparison.baseline_label)
                say_written(drawn, lang, fmt)
            else:
                say_written(difference_chart(comparison, index, path, lang), lang, fmt)
    if out is not None:
        from dsg.output.export import write_comparison

        say_written(write_comparison(comparison, out, lang, parts), lang, fmt)


@contextmanager
def progress_bar(label: str, total: int):
    """A progress bar on stderr (so that tables sent down a pipe stay clean), gone when done;
    yields ``advance(n, description=None)``. Nothing is drawn when stderr is not a terminal."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True, console=Console(stderr=True)) as bar:
        task = bar.add_task("", total=total)

        def advance(n: int, description: str | None = None) -> None:
            if description is None:
                bar.update(task, advance=n)
            else:
                bar.update(task, advance=n, description=description)

        yield advance


def numbered_paths(path: str, count: int) -> list[Path]:
    """One path per scenario: the path itself for one, name-1.png, name-2.png... for more."""
    target = Path(path)
    if count == 1:
        return [target]
    return [target.with_name(f"{target.stem}-{n}{target.suffix}") for n in range(1, count + 1)]


@main.command(
    epilog="""\b
Examples:
  dsg explain Cardiff
  dsg explain W06000024 --scenario deprivation.toml
  dsg explain RCT --scenario deprivation.toml --baseline floor-3.5.toml
  dsg explain Cardiff --data 2026-27/ --baseline 2025-26/
  dsg explain "bro morgannwg" --lang cy --chart vale.png
"""
)
@click.argument("council")
@dataset_options
@click.option(
    "--baseline",
    type=click.Path(),
    default=None,
    help='Compare with this: a scenario file, a dataset folder, or "default" (the dataset as it stands).',
)
@click.option("--chart", type=click.Path(), default=None, help="Draw a waterfall from SSA to AEF (.png, .svg or .pdf).")
@reports_input_errors
def explain(council, data, scenario, baseline, lang, chart):
    """Why a council gets what it gets.

    COUNCIL is an ONS code or an English or Welsh name, in any case. Shows each service's
    assessment against the council's population, each indicator's share against its
    population share, the calibration residual on its own line, and the steps from SSA
    through assumed council tax, floor and cap to AEF, NDR and RSG, with per-head figures.

    With --scenario or --baseline, also why it changes: its IBAs, what each indicator brings
    it, and the steps to AEF before (the baseline; by default the dataset as it stands) and
    after (the scenario), and its change in AEF split by cause.
    """
    from dsg import pipeline

    problems = path_problems(chart=chart)
    if scenario is None and baseline is None:
        change, explanation = None, pipeline.explain(council, data, scenario, problems)
    else:
        change = pipeline.explain_change(council, data, scenario, baseline, problems)
        explanation = change.after
    from dsg.output.screen import change_tables, explanation_tables, print_lines, print_wide

    head, tables, notes = explanation_tables(explanation, lang)
    print_lines(head)
    for table in tables:
        print_wide(table, lang=lang)
    print_lines(notes)
    if change is not None:
        head, tables = change_tables(change, lang)
        print_lines(head)
        for table in tables:
            print_wide(table, lang=lang)
    if chart is not None:
        from dsg.output.charts import waterfall_chart

        say_written(waterfall_chart(explanation, chart, lang), lang)


@main.command(
    epilog="""\b
Examples:
  dsg sweep --service "Personal Social Services" --indicator lsoas_most_deprived_20pct --from 0 --to 0.6 --steps 13
  dsg sweep --service "School Services" --indicator land_area_km2 --from 0 --to 0.2 --steps 5 --chart sweep.png
"""
)
@dataset_options
@click.option("--service", required=True, help="The service whose formula changes.")
@click.option("--indicator", required=True, help="The indicator whose weight moves.")
@click.option("--from", "start", type=float, required=True, help="First weight (0 to 1).")
@click.option("--to", "stop", type=float, required=True, help="Last weight (0 to 1).")
@click.option("--steps", type=int, default=11, show_default=True, help="Number of weights, ends included.")
@click.option(
    "--chart",
    type=click.Path(),
    default=None,
    help="Draw a line per council (.png, .svg or .pdf), floor crossings and the current weight marked.",
)
@click.option(
    "--highlight",
    multiple=True,
    help="A council to draw in colour on the chart (repeat for more; any name or code); the rest are grey.",
)
@click.option("--out", type=click.Path(), default=None, help="Write the council x step table (.csv, .parquet, .xlsx).")
@format_option
@reports_input_errors
def sweep(data, scenario, lang, service, indicator, start, stop, steps, chart, highlight, out, fmt):
    """Move one weight step by step; the service's other weights rescale to keep the sum at 1.

    Shows each council's % change at every step, so you see how far a weight can move
    before the picture changes and which councils reach the floor.
    """
    from dsg import pipeline
    from dsg.analysis.names import council_index, council_problems, sweep_problems
    from dsg.analysis.options import sweep_option_problems
    from dsg.output.provenance import sweep_provenance

    problems = path_problems(out, chart) + sweep_option_problems(start, stop, steps)

    def checks(d):
        return sweep_problems(d, service, indicator) + [
            p for c in highlight for p in council_problems(d, c, "--highlight")
        ]

    dataset = pipeline.scenario_dataset(data, scenario, problems, checks)
    from dsg.analysis.robustness import sweep as run_sweep
    from dsg.output.screen import print_wide, sweep_frame, sweep_table

    result = run_sweep(dataset, service, indicator, start, stop, steps)
    if fmt != "table":
        from dsg.output.export import rounded_frame

        frame = sweep_frame(result, lang)
        say_table(rounded_frame(frame, dict.fromkeys(frame.columns[1:], "pct")), fmt)
    else:
        print_wide(sweep_table(result, lang), lang=lang)
    if chart is not None:
        from dsg.output.charts import sweep_chart

        lit = list(dict.fromkeys(council_index(dataset, c) for c in highlight))
        say_written(sweep_chart(result, chart, lang, lit), lang, fmt)
    if out is not None:
        from dsg.output.export import write_frame

        record = sweep_provenance(result)
        frame = sweep_frame(result, lang)
        weights = tuple(frame.columns[1:])
        from dsg.analysis.caveats import caveat_summary

        caveat = caveat_summary(result.dataset, lang)
        say_written(write_frame(frame, out, record, lang, dict.fromkeys(weights, "pct"), weights, caveat), lang, fmt)


@main.command(
    epilog="""\b
Examples:
  dsg montecarlo --samples 1000000 --seed 1
  dsg montecarlo --samples 100000000 --seed 7 --concentration 50 --indicator-noise 2 --out mc.xlsx
"""
)
@dataset_options
@click.option("--samples", type=int, default=100_000, show_default=True, help="Number of random formulas to settle.")
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Random seed: the same seed gives the same results on any machine.",
)
@click.option(
    "--concentration",
    type=float,
    default=200.0,
    show_default=True,
    help="How tightly the random weights sit around the formula's own (Dirichlet concentration).",
)
@click.option(
    "--indicator-noise", type=float, default=0.0, show_default=True, help="Random +/- % on every indicator value."
)
@click.option("--out", type=click.Path(), default=None, help="Write the per-council summary (.csv, .parquet, .xlsx).")
@format_option
@reports_input_errors
def montecarlo(data, scenario, lang, samples, seed, concentration, indicator_noise, out, fmt):
    """Settle many random formulas around the current one: which councils are fragile?

    Each service's weights are drawn from a Dirichlet distribution centred on its own weights;
    the summary gives each council's % change at the 5th, 50th and 95th percentiles, its mean,
    lowest and highest, and how often it lands on the floor.
    """
    from dsg import pipeline
    from dsg.analysis.options import montecarlo_option_problems
    from dsg.output.provenance import montecarlo_provenance

    problems = path_problems(out) + montecarlo_option_problems(samples, seed, concentration, indicator_noise)
    dataset = pipeline.scenario_dataset(data, scenario, problems)
    from dsg.analysis.robustness import montecarlo as run_montecarlo
    from dsg.output.screen import montecarlo_frame, montecarlo_table, print_wide

    with progress_bar(name_of("words", "progress", lang), samples) as advance:
        result = run_montecarlo(dataset, samples, seed, concentration, indicator_noise, progress=advance)
    frame = montecarlo_frame(result, lang)
    kinds = {c: "fraction" if c == "probability_on_floor" else "pct" for c in frame.columns[2:]}
    if fmt != "table":
        from dsg.output.export import rounded_frame

        say_table(rounded_frame(frame, kinds), fmt)
    else:
        print_wide(montecarlo_table(result, lang), lang=lang)
    if out is not None:
        from dsg.output.export import write_frame

        record = montecarlo_provenance(result)
        from dsg.analysis.caveats import caveat_summary

        say_written(write_frame(frame, out, record, lang, kinds, caveat=caveat_summary(dataset, lang)), lang, fmt)


@main.command(
    epilog="""\b
Examples:
  dsg goalseek --vary floor --range 0 6 --target floor-cost --value 50000000
  dsg goalseek --vary "service:School Services" --range 2.9e9 3.3e9 --target min-pct --value 3.0
  dsg goalseek --vary "weight:Personal Social Services:lsoas_most_deprived_20pct" --range 0 0.9 \\
      --target council-aef --council "Merthyr Tydfil" --value 140000000
  dsg goalseek --vary floor --range 0 6 --target on-floor --value 3
"""
)
@dataset_options
@click.option("--vary", "parameter", required=True, help="floor, service:NAME or weight:SERVICE:INDICATOR.")
@click.option("--range", "bounds", type=(float, float), required=True, help="Lowest and highest value to try.")
@click.option(
    "--target",
    type=click.Choice(TARGETS),
    required=True,
    help="floor-cost (at most £), min-pct (no council below %), council-aef (= £), on-floor (at most n).",
)
@click.option("--value", type=float, required=True, help="The target's value.")
@click.option("--council", default=None, help="For council-aef: ONS code or name.")
@reports_input_errors
def goalseek(data, scenario, lang, parameter, bounds, target, value, council):
    """Find the value of one parameter that meets a target, by bisection on the engine.

    For "at most" / "at least" targets it finds the value nearest the boundary that still
    meets it (e.g. the highest floor whose cost is at most £X); an error says so when no
    value in the range meets it.
    """
    from dsg import pipeline
    from dsg.analysis.names import goalseek_problems
    from dsg.analysis.options import goalseek_option_problems

    problems = goalseek_option_problems(parameter, bounds[0], bounds[1], target, value, council)
    # Names (a service, an indicator, a council) are checked on the dataset, when there are any.
    named = parameter.partition(":")[0] in ("service", "weight") or (target == "council-aef" and council)
    checks = (lambda d: goalseek_problems(d, parameter, target, council)) if named else None
    dataset = pipeline.scenario_dataset(data, scenario, problems, checks)
    from dsg.analysis.robustness import goalseek as run_goalseek
    from dsg.output.formats import pounds, precise_percent, setting
    from dsg.output.screen import print_allocation

    shown = lambda v: setting(parameter, v)  # noqa: E731
    result = run_goalseek(dataset, parameter, bounds[0], bounds[1], target, value, council, shown=shown)
    metric = {
        "floor-cost": pounds(result.metric),
        "council-aef": pounds(result.metric),
        "min-pct": precise_percent(result.metric),
        "on-floor": f"{result.metric:.0f}",
    }[target]
    click.echo(
        name_of(
            "words",
            "goalseek_result",
            lang,
            parameter=parameter,
            value=shown(result.value),
            target=target,
            metric=metric,
            iterations=result.iterations,
        )
    )
    print_allocation(result.allocation, lang)


@main.command(
    epilog="""\b
Examples:
  dsg bench
  dsg bench --json --scenarios 5000000
"""
)
@data_option
@lang_option
@click.option(
    "--scenarios",
    type=int,
    default=2_000_000,
    show_default=True,
    help="Scenarios for the numba runs (NumPy gets 1/10, the polars query 1/50, polars one at a time 200).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@reports_input_errors
def bench(data, lang, scenarios, as_json):
    """Settlements per second: numba on all cores and on one, NumPy, a polars query, polars per scenario.

    All five do the same job in one run: settle the same scenarios (random weights, AEF total
    and floor) and keep each council's summaries of the % change, as sweeps and Monte Carlo
    do. The ratios are what matters, as absolute speed depends on the machine.
    """
    import json

    from dsg import pipeline
    from dsg.analysis.options import bench_option_problems

    dataset, _, problems = pipeline.load_inputs(data, None, bench_option_problems(scenarios))
    raise_if(problems)
    from dsg.analysis.bench import BENCH_STEPS, run_bench
    from dsg.output.screen import bench_table, print_wide

    with progress_bar("{task.description}", len(BENCH_STEPS)) as advance:
        words = {step: name_of("words", f"engine_{step}", lang) for step in BENCH_STEPS}

        def step(name: str) -> None:
            advance(0 if name == BENCH_STEPS[0] else 1, words[name])

        figures = run_bench(dataset, scenarios, progress=step)
    if as_json:
        keys = ("numba_all_cores", "numba_one_core", "numpy", "polars_query", "polars_per_scenario", "scenarios")
        click.echo(json.dumps({k: figures[k] for k in keys}))
        return
    table, line = bench_table(figures, lang)
    print_wide(table, lang=lang)
    click.echo(line)


@main.group(
    epilog="""\b
Examples:
  dsg grants list
  dsg grants report --scenario grants.toml --out results/
"""
)
def grants():
    """Specific grants: the catalogue, and what moving or merging them does."""


@grants.command(
    "list",
    epilog="""\b
Examples:
  dsg grants list
  dsg grants list --lang cy
""",
)
@data_option
@lang_option
@reports_input_errors
def grants_list(data, lang):
    """The dataset's specific grants: Wales total, year, distribution key and source."""
    from dsg import pipeline
    from dsg.grants.report import catalogue as grant_catalogue

    dataset, _, _ = pipeline.load_inputs(data, None)
    from dsg.output.screen import catalogue_table, print_wide

    frame = grant_catalogue(dataset, lang)
    if frame.height == 0:
        click.echo(name_of("words", "no_grants", lang))
        return
    print_wide(catalogue_table(frame, dataset.title(lang), lang), lang=lang)


@grants.command(
    "report",
    epilog="""\b
Examples:
  dsg grants report --scenario grants.toml
  dsg grants report --scenario grants.toml --out results/ --lang cy
""",
)
@data_option
@click.option(
    "--scenario", type=click.Path(), required=True, help="Scenario TOML file with grant moves and/or [[years]]."
)
@lang_option
@click.option(
    "--out",
    type=click.Path(),
    default=None,
    help="Folder to write dehypothecation.csv, consolidation.csv, multiyear.csv, hypothecation.csv and grants.xlsx.",
)
@reports_input_errors
def grants_report(data, scenario, lang, out):
    """What a grant scenario does, per council and year.

    Dehypothecation (SPEC §5): each council's grant moved, its AEF gain and the net effect,
    and whether the floor protected it. Consolidation: old and new allocations. The AEF of
    every year of the path, and the share of external funding that is hypothecated before
    and after.
    """
    from dsg import pipeline

    problems = files_problems(out, GRANT_REPORT_FILES) if out is not None else []
    report = pipeline.grant_report(scenario, data, problems)
    from dsg.output.screen import grant_report_tables, multiyear_lines, print_lines, print_wide

    for table in grant_report_tables(report, lang):
        print_wide(table, lang=lang)
    print_lines(multiyear_lines(report, lang))
    if out is not None:
        from dsg.output.export import write_grant_report

        for written in write_grant_report(report, out, lang):
            say_written(written, lang)


@main.group(
    epilog="""\b
Examples:
  dsg data export my-dataset/
  dsg data check my-dataset/
  dsg data import-ibas ibas-2026-27.csv --out 2026-27/ --blocks blocks.csv --year 2026-27
"""
)
def data():
    """Dataset folders: write the default out, check one, or build one from official IBAs."""


@data.command(
    "check",
    epilog="""\b
Examples:
  dsg data check my-dataset/
  dsg data check 2026-27/ --lang cy
""",
)
@click.argument("folder", type=click.Path())
@lang_option
@reports_input_errors
def data_check(folder, lang):
    """Check a dataset folder (SPEC §2) and settle it: every problem at once, or one line
    saying it is sound."""
    from dsg import pipeline

    outcome = pipeline.check_dataset(folder)
    from dsg.output.formats import pounds

    dataset, allocation = outcome.dataset, outcome.allocation
    click.echo(
        name_of("words", "check_ok", lang).format(
            data=folder,
            councils=len(dataset.council_codes),
            indicators=dataset.indicators["indicator"].n_unique(),
            services=dataset.services.height,
            aef=pounds(float(allocation.councils["aef"].sum())),
            floor_cost=pounds(allocation.floor_cost),
        )
    )


@data.command(
    "export",
    epilog="""\b
Examples:
  dsg data export my-dataset/
  dsg data export 2026-27/ --data 2025-26/
""",
)
@click.argument("folder", type=click.Path())
@data_option
@lang_option
@reports_input_errors
def data_export(folder, data, lang):
    """Write a dataset's files into FOLDER for editing (by default the embedded one). FOLDER
    must be new, empty, or hold a dataset, which is replaced whole."""
    from dsg import pipeline

    say_written(pipeline.export_dataset(folder, data), lang)


@data.command(
    "import-ibas",
    epilog="""\b
Examples:
  dsg data import-ibas ibas.csv --out 2026-27/
  dsg data import-ibas statswales.xlsx --out 2026-27/ --year 2026-27 --blocks blocks.csv
  dsg data import-ibas ibas.csv --out final/ --like provisional/
""",
)
@click.argument("file", type=click.Path())
@click.option(
    "--out", type=click.Path(), required=True, help="Folder of the new dataset (new, empty, or a dataset to replace)."
)
@click.option(
    "--like",
    type=click.Path(),
    default=None,
    help="Dataset to copy councils, tax base, base, settlement, NDR, grants and fixed element from. Default: the embedded one.",
)
@click.option(
    "--blocks",
    type=click.Path(),
    default=None,
    help="CSV of line,service: the block of each line (others are their own).",
)
@click.option("--year", default=None, help="Keep only this year's rows (needed when FILE holds several years).")
@lang_option
@reports_input_errors
def data_import_ibas(file, out, like, blocks, year, lang):
    """Build a dataset from official IBA amounts by council and line.

    FILE (CSV or XLSX) is long, one row per council and line (headers as in the StatsWales
    download: Unitary Authority or Authority, Service or Indicator Name, Data values, Year;
    or ons_code / council, line, value, year), or wide, one row per council and one column
    per line. Each line becomes an indicator (£ per council) weighted by its share of its
    block, so that the dataset gives back every council's amounts exactly.
    """
    from dsg import pipeline

    imported = pipeline.import_ibas(file, out, like, blocks, year)
    click.echo(
        name_of("words", "import_summary", lang).format(
            lines=len(imported.lines), blocks=len(imported.blocks), councils=imported.councils, year=imported.year
        )
    )
    if imported.set_aside:
        click.echo(name_of("words", "import_set_aside", lang).format(rows=imported.set_aside, year=imported.year))
    if imported.left_out:
        click.echo(name_of("words", "import_left_out", lang).format(lines=", ".join(imported.left_out)))
    if imported.residual_left_out:
        click.echo(name_of("words", "import_residual_left_out", lang).format(like=imported.like))
    say_written(out, lang)


@main.command(
    epilog="""\b
Examples:
  dsg report floor-3.5.toml --out report.html
  dsg report a.toml b.toml --baseline default --decompose --out paper.html --lang cy
  dsg report 2026-27/ --baseline 2025-26/ --decompose --out year-on-year.html
"""
)
@click.argument("sides", nargs=-1, required=True, metavar="SCENARIO...")
@click.option(
    "--baseline",
    type=click.Path(),
    default=None,
    help='What the scenarios are compared with: a scenario file, a dataset folder or "default" (the dataset as it stands, the default).',
)
@data_option
@click.option("--decompose", is_flag=True, help="Add each council's change split by cause, with its chart.")
@click.option("--out", type=click.Path(), required=True, help="The page to write (.html).")
@lang_option
@reports_input_errors
def report(sides, baseline, data, decompose, out, lang):
    """One self-contained page for a paper or an impact-assessment annex.

    For each scenario against the baseline: headline figures (AEF, floor cost and who pays
    it, councils gaining, losing and on the floor), the table of councils with £ and %
    differences per head and per Band D, the regions, the charts, the decomposition when
    asked, the caveats of illustrative inputs and the provenance. It prints as a clean A4
    document from the browser.
    """
    from dsg import pipeline

    inputs = [p for p in (baseline, data, *sides) if p is not None and p != "default" and Path(p).exists()]
    clashes = overwrite_problems([out], inputs)
    say_written(pipeline.report(out, list(sides), baseline, data, decompose, lang, clashes), lang)


@main.command(
    "formula",
    epilog="""\b
Examples:
  dsg formula
  dsg formula --service "personal social services"
  dsg formula --data 2026-27/ --lang cy
""",
)
@data_option
@click.option("--service", default=None, help="Show this service's formula only (English or Welsh name, any case).")
@lang_option
@reports_input_errors
def formula_command(data, service, lang):
    """The formula as it stands: each service's Wales total and status, and its indicators
    with weights, the £ each shares, labels in English and Welsh and statuses."""
    from dsg import pipeline

    dataset, found = pipeline.formula(data, service)
    from dsg.output.screen import formula_tables, print_wide

    for table in formula_tables(dataset, lang, found):
        print_wide(table, lang=lang)


@main.group(
    epilog="""\b
Examples:
  dsg scenario new my-option.toml
"""
)
def scenario():
    """Scenario files: start one from the formula as it stands."""


@scenario.command(
    "new",
    epilog="""\b
Examples:
  dsg scenario new my-option.toml
  dsg scenario new 2026-27-option.toml --data 2026-27/ --lang cy
""",
)
@click.argument("file", type=click.Path())
@data_option
@lang_option
@reports_input_errors
def scenario_new(file, data, lang):
    """Write FILE, a commented scenario holding every settlement parameter, service total
    and weight as they stand: run as it is, it gives the dataset's own settlement; edit what
    you want to test."""
    from dsg import pipeline

    say_written(pipeline.new_scenario(file, data, lang), lang)


if __name__ == "__main__":
    main()
