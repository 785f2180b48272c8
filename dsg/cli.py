"""The ``dsg`` command: parses options, calls the library, renders. No arithmetic here."""

from __future__ import annotations

import sys
from functools import wraps

import click

from dsg.errors import InputError, raise_if
from dsg.export import output_path_problems, write_allocation
from dsg.formula.settlement import run_settlement
from dsg.i18n import LANGUAGES, default_language, term
from dsg.render import print_allocation


def reports_input_errors(command):
    """Turn :class:`InputError` into the full list of problems on stderr and exit status 2."""

    @wraps(command)
    def wrapper(*args, lang=None, **kwargs):
        lang = lang or default_language()
        try:
            return command(*args, lang=lang, **kwargs)
        except InputError as error:
            click.echo(term("words", "problems_found", lang), err=True)
            for problem in error.problems:
                click.echo(f"  {problem.render(lang)}", err=True)
            sys.exit(2)

    return wrapper


def dataset_options(command):
    """--data, --scenario and --lang, shared by every command that settles."""
    command = click.option(
        "--lang",
        type=click.Choice(LANGUAGES),
        default=None,
        help="Language of names, headers and messages: en or cy. Default: $DSG_LANG, else en.",
    )(command)
    command = click.option(
        "--scenario",
        type=click.Path(dir_okay=False),
        default=None,
        help="Scenario TOML file (SPEC §5) applied to the dataset.",
    )(command)
    command = click.option(
        "--data",
        type=click.Path(),
        default=None,
        help="Dataset directory (SPEC §2). Default: the embedded wales-2025-26.",
    )(command)
    return command


@click.group(
    epilog="""\b
Examples:
  dsg run
  dsg run --scenario more-deprivation.toml --out allocation.xlsx
  dsg run --lang cy
"""
)
@click.version_option(package_name="dsg")
def main():
    """dsg: simulate the Welsh local government revenue settlement.

    Recompute each council's Standard Spending Assessment, Aggregate External Finance,
    floor and cap from a dataset and an optional scenario.
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
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write the allocation table: .csv, .parquet or .xlsx.")
@reports_input_errors
def run(data, scenario, out, lang):
    """Settle one scenario and show the allocation to each council.

    Shows SSA, assumed council tax, formula AEF, floor and cap, AEF, NDR, RSG and the
    change against the adjusted base, in £ thousand, with a Wales row and the floor cost.
    """
    problems = output_path_problems(out) if out is not None else []
    try:
        allocation = run_settlement(data, scenario)
    except InputError as error:
        raise InputError(problems + error.problems) from None
    raise_if(problems)
    print_allocation(allocation, lang)
    if out is not None:
        written = write_allocation(allocation, out, lang)
        click.echo(f"{term('words', 'written', lang)}: {written}")


if __name__ == "__main__":
    main()
