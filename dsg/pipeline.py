"""The one route from paths and options to results: load -> apply -> settle (-> path).

Every command and the Python API go through here, so a dataset is loaded once, a scenario
parsed once, and each distinct scenario-year settled once; and every problem of the
dataset, the scenario and the output paths is collected and raised together (SPEC §6).

Checks that need no engine (output paths, the scenario file's shape, the dataset folder)
run first; when they fail on the embedded dataset, dsg refuses without loading polars or
numba at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dsg.errors import InputError, Problem, raise_if
from dsg.formula.scenario import Scenario, load_scenario, with_block_weights

if TYPE_CHECKING:
    from dsg.analysis.compare import Comparison
    from dsg.formula.dataset import Dataset
    from dsg.formula.settle import Allocation, Settler
    from dsg.grants.path import GrantPath
    from dsg.grants.report import GrantReport

# The positional baseline of ``dsg compare`` may name the dataset itself.
DEFAULT_BASELINE = "default"


@dataclass(frozen=True)
class Run:
    """One scenario on one dataset, settled: each year's allocation (one year unless the
    scenario has ``[[years]]``), and the grant path when it moves grants."""

    dataset: Dataset  # as loaded, before the scenario
    scenario: Scenario | None
    allocations: tuple[Allocation, ...]
    years: tuple[str, ...]
    path: GrantPath | None
    settlements: int  # kernel runs it took: one per distinct scenario-year or counterfactual

    @property
    def allocation(self) -> Allocation:
        """The scenario's own year."""
        return self.allocations[0]

    @property
    def multi_year(self) -> bool:
        return len(self.allocations) > 1


def read_scenario(path: str | Path | None, problems: list[Problem]) -> Scenario | None:
    if path is None:
        return None
    try:
        return load_scenario(path)
    except InputError as error:
        problems += error.problems
        return None


def load_inputs(
    data: str | Path | None, scenario: str | Path | None, problems: list[Problem] | None = None, quick: bool = True
):
    """The dataset and the parsed scenario, with every problem found so far raised together.

    ``problems`` holds any found before (e.g. output paths); the scenario's own shape
    problems are raised with the dataset's, or with how the scenario misfits the dataset.
    ``quick``: refuse early problems on the embedded dataset without loading it (a caller
    that still has checks to make against the dataset says False).
    """
    problems = list(problems or [])
    parsed = read_scenario(scenario, problems)
    early = problems + list(parsed.problems if parsed else ())
    if quick and data is None and early:
        raise InputError(early)  # the embedded dataset is known good: no need to load it
    from dsg.formula.dataset import load_dataset

    try:
        dataset = load_dataset(data)
    except InputError as error:
        raise InputError(early + error.problems) from None
    raise_if(problems)
    return dataset, parsed


def settle_scenario(dataset: Dataset, scenario: Scenario | None, settler: Settler | None = None) -> Run:
    """Apply a scenario to a loaded dataset and settle it, every year of its path."""
    from dsg.formula.apply import apply_scenario, formula_problems
    from dsg.formula.settle import Settler
    from dsg.grants.path import run_path

    settler = settler or Settler()
    if scenario is None:
        allocation = settler.settle(dataset)
        return Run(dataset, None, (allocation,), (dataset.year,), None, settler.settlements)
    scenario = with_block_weights(scenario, dataset.services["service"].to_list())
    problems = formula_problems(dataset, scenario)
    if not scenario.has_path:
        raise_if(problems)
        allocation = settler.settle(apply_scenario(dataset, scenario))
        return Run(dataset, scenario, (allocation,), (dataset.year,), None, settler.settlements)
    if problems:
        # The grant moves and years are still checked, on the dataset as it stands, so that
        # every problem is listed at once; what the settlement itself found there is not theirs.
        try:
            run_path(dataset, dataset, scenario, settler)
        except InputError as error:
            problems += [p for p in error.problems if p.code not in SETTLEMENT_CODES]
        raise InputError(problems)
    path = run_path(dataset, apply_scenario(dataset, scenario), scenario, settler)
    return Run(dataset, scenario, tuple(path.allocations), tuple(path.years), path, settler.settlements)


# Problems of a settlement as such, which checking grant moves on an unchanged dataset can raise.
SETTLEMENT_CODES = ("negative_band_d", "floor_not_self_fundable", "floor_nobody_above")


def run(
    data: str | Path | None = None, scenario: str | Path | None = None, problems: list[Problem] | None = None
) -> Run:
    """Load a dataset (the embedded default when ``data`` is None), apply a scenario file if
    given, and settle every year: what ``dsg run`` does.

    Raises :class:`dsg.InputError` listing every problem of ``problems`` (found by the
    caller, e.g. output paths), the dataset and the scenario.
    """
    dataset, parsed = load_inputs(data, scenario, problems)
    return settle_scenario(dataset, parsed)


def explain(
    council: str,
    data: str | Path | None = None,
    scenario: str | Path | None = None,
    problems: list[Problem] | None = None,
):
    """One council's settlement taken apart (``dsg explain``); an unknown council is listed
    with every other problem."""
    from dsg.analysis.explain import explain as explain_council
    from dsg.analysis.explain import find_council

    problems = list(problems or [])
    try:
        dataset, parsed = load_inputs(data, scenario, problems, quick=False)
    except InputError as error:
        raise InputError(error.problems + council_name_problems(data, council)) from None
    try:
        outcome = settle_scenario(dataset, parsed)
    except InputError as error:
        raise InputError(error.problems + council_name_problems(data, council, dataset)) from None
    try:
        find_council(outcome.allocation.dataset, council)
    except InputError as error:
        problems += error.problems
    raise_if(problems)
    return explain_council(outcome.allocation, council)


def council_name_problems(data, council: str, dataset: Dataset | None = None) -> list[Problem]:
    """Whether ``council`` names a council of the dataset (when it can be loaded)."""
    from dsg.analysis.explain import find_council
    from dsg.formula.dataset import load_dataset

    try:
        find_council(dataset or load_dataset(data), council)
    except InputError as error:
        return error.problems
    return []


def run_settlement(data: str | Path | None = None, scenario: str | Path | None = None) -> Allocation:
    """The scenario's own year, settled: ``run(data, scenario).allocation``."""
    return run(data, scenario).allocation


def scenario_dataset(
    data: str | Path | None = None, scenario: str | Path | None = None, problems: list[Problem] | None = None
) -> Dataset:
    """The dataset of the scenario's own year, its grant moves made, ready for a batch of
    settlements (sweep, Monte Carlo, goal seek)."""
    return run(data, scenario, problems).allocation.dataset


def report_of(outcome: Run) -> GrantReport:
    """A settled run's grant tables and year-by-year path (for a scenario without grant moves
    or years, its one year)."""
    from dsg.formula.scenario import Scenario
    from dsg.formula.settle import settle
    from dsg.grants.moves import grant_amounts
    from dsg.grants.path import GrantPath
    from dsg.grants.report import GrantReport

    path = outcome.path or GrantPath(
        years=list(outcome.years),
        allocations=list(outcome.allocations),
        start_grants=grant_amounts(outcome.dataset),
        end_grants=grant_amounts(outcome.allocation.dataset),
    )
    if path.start is None:
        path.start = settle(outcome.dataset)
    return GrantReport(dataset=outcome.dataset, scenario=outcome.scenario or Scenario(), path=path)


def grant_report(
    scenario: str | Path, data: str | Path | None = None, problems: list[Problem] | None = None
) -> GrantReport:
    """What a grant scenario does, per council and year (``dsg grants report``)."""
    return report_of(run(data, scenario, problems))


def compare(
    sides: list[str | Path],
    baseline: str | Path | None = None,
    data: str | Path | None = None,
    problems: list[Problem] | None = None,
) -> Comparison:
    """Settle a baseline (the dataset, a scenario file on it, or another dataset folder) and
    each side, and compare them council by council (``dsg compare``).

    Raises :class:`dsg.InputError` listing every problem in the dataset and every file.
    """
    from dsg.analysis.compare import Comparison, side_label, unique_labels
    from dsg.formula.dataset import load_dataset
    from dsg.formula.settle import Settler

    problems = list(problems or [])
    paths = [baseline, *sides]
    scenario_paths = [p for p in paths if p is not None and str(p) != DEFAULT_BASELINE and not Path(p).is_dir()]
    parsed: dict[int, Scenario | None] = {}
    for index, path in enumerate(paths):
        if path is not None and path in scenario_paths:
            parsed[index] = read_scenario(path, problems)
    early = problems + [p for s in parsed.values() if s for p in s.problems]
    if data is None and early and not any(p is not None and Path(p).is_dir() for p in paths):
        raise InputError(early)
    try:
        dataset = load_dataset(data)
    except InputError as error:
        raise InputError(early + error.problems) from None
    settler = Settler()
    runs: list[Run | None] = []
    for index, path in enumerate(paths):
        try:
            if path is None or str(path) == DEFAULT_BASELINE:
                runs.append(settle_scenario(dataset, None, settler))
            elif Path(path).is_dir():
                other = load_dataset(path)
                runs.append(settle_scenario(other, None, settler))
            elif parsed.get(index) is None:
                runs.append(None)
            else:
                runs.append(settle_scenario(dataset, parsed[index], settler))
        except InputError as error:
            problems += error.problems
            runs.append(None)
    raise_if(problems)
    from dsg.analysis.compare import council_problems

    settled = [r for r in runs if r is not None]
    raise_if(council_problems(settled[0].allocation, [r.allocation for r in settled[1:]], [str(p) for p in sides]))
    labels = [side_label(p, r.allocation, dataset) for p, r in zip(paths, settled)]
    return Comparison(
        baseline=settled[0].allocation,
        scenarios=tuple(r.allocation for r in settled[1:]),
        baseline_label=labels[0],
        labels=tuple(unique_labels(labels[1:])),
    )
