"""The one route from paths and options to results: load -> apply -> settle (-> path).

Every command and the Python API go through here, so a dataset is loaded once, a scenario
parsed once, and each distinct scenario-year settled once; and every problem of the
dataset, the scenario, the command's options and its output paths is collected and raised
together (SPEC §6).

Checks that need no engine (output paths, options, the scenario file) run first. When
nothing else could be found (the embedded dataset, which is known good, and no scenario to
check against it), dsg refuses without loading polars or numba; otherwise it loads the
dataset to list everything, and never settles (numba) before every check has passed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
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
    settler: Settler = field(repr=False)  # settles each distinct set of inputs once

    @property
    def settlements(self) -> int:
        """Kernel runs so far: one per distinct scenario-year or counterfactual."""
        return self.settler.settlements

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


# Extra checks of a command's options against the dataset of the scenario's own year.
Checks = Callable[["Dataset"], list[Problem]]


def load_inputs(
    data: str | Path | None,
    scenario: str | Path | None,
    problems: list[Problem] | None = None,
    needs_dataset: bool = False,
) -> tuple[Dataset, Scenario | None, list[Problem]]:
    """The dataset, the parsed scenario, and the problems found so far (``problems`` from the
    caller, e.g. output paths, and a scenario that could not be read).

    Refuses at once, without loading the dataset, when nothing more could be found: the
    embedded dataset, no scenario that was read, and no check of the caller's that needs the
    dataset (``needs_dataset``). A dataset that cannot be loaded is refused with all of it.
    """
    problems = list(problems or [])
    parsed = read_scenario(scenario, problems)
    if problems and data is None and parsed is None and not needs_dataset:
        raise InputError(problems)
    from dsg.formula.dataset import load_dataset

    try:
        dataset = load_dataset(data)
    except InputError as error:
        raise InputError(problems + list(parsed.problems if parsed else ()) + error.problems) from None
    return dataset, parsed, problems


def settle_scenario(
    dataset: Dataset,
    scenario: Scenario | None,
    settler: Settler | None = None,
    problems: list[Problem] | None = None,
    checks: Checks | None = None,
) -> Run:
    """Apply a scenario to a loaded dataset and settle it, every year of its path.

    ``problems`` found before and what ``checks`` find on the scenario's own year are raised
    with the scenario's, all at once.
    """
    from dsg.formula.apply import apply_scenario, formula_problems

    problems = list(problems or [])
    if scenario is None:
        problems += checks(dataset) if checks else []
        raise_if(problems)
        settler = settler or new_settler()
        allocation = settler.settle(dataset)
        return Run(dataset, None, (allocation,), (dataset.year,), None, settler)
    scenario = with_block_weights(scenario, dataset.services["service"].to_list())
    found = formula_problems(dataset, scenario)
    if found:
        problems += found + (path_problems(dataset, scenario, settler or new_settler()) if scenario.has_path else [])
        raise InputError(problems)
    changed = apply_scenario(dataset, scenario)
    if not scenario.has_path:
        problems += checks(changed) if checks else []
        raise_if(problems)
        settler = settler or new_settler()
        return Run(dataset, scenario, (settle_blaming(dataset, changed, settler),), (dataset.year,), None, settler)
    from dsg.grants.path import run_path

    settler = settler or new_settler()

    try:
        path = run_path(changed, scenario, settler)
    except InputError as error:
        raise InputError(problems + error.problems) from None
    problems += checks(path.allocations[0].dataset) if checks else []
    raise_if(problems)
    return Run(dataset, scenario, tuple(path.allocations), tuple(path.years), path, settler)


def settle_blaming(dataset: Dataset, changed: Dataset, settler: Settler):
    """Settle the dataset with a scenario applied. When that is impossible and the dataset on
    its own is impossible too, the problem is the dataset's, and it is named there rather
    than blamed on a scenario that may change nothing relevant."""
    try:
        return settler.settle(changed)
    except InputError as error:
        try:
            settler.settle(dataset)
        except InputError as own:
            raise InputError(own.problems) from None
        raise error from None


def new_settler() -> Settler:
    """A Settler, made once every check that needs no settlement has passed."""
    from dsg.formula.settle import Settler

    return Settler()


# Problems of the settlement as such, or of the parameters a later year meets: checked on a
# dataset that lacks the scenario's own (broken) parts, they would not be the scenario's.
SETTLEMENT_CODES = ("negative_band_d", "floor_not_self_fundable", "floor_nobody_above")
PARAMETER_CODES = ("cap_below_floor",)


def path_problems(dataset: Dataset, scenario: Scenario, settler: Settler) -> list[Problem]:
    """The problems of a scenario's grant moves and years when its formula parts have problems
    of their own: checked on the dataset with as much of the scenario as is sound (its
    [settlement], if that is), so that every problem is listed at once and none is spurious."""
    from dsg.formula.apply import scenario_settlement
    from dsg.grants.path import run_path

    settlement, _ = scenario_settlement(dataset, scenario)
    # Sound: it obeys the rules and every indicator it names exists (else it cannot settle).
    known = set(dataset.indicators["indicator"].to_list())
    sound = settlement is not None and set(settlement.indicators().values()) <= known
    base = dataset.with_changes(settlement=settlement) if sound else dataset
    ignored = SETTLEMENT_CODES + (() if sound else PARAMETER_CODES)
    try:
        run_path(base, scenario, settler)
    except InputError as error:
        return [p for p in error.problems if p.code not in ignored]
    return []


def run(
    data: str | Path | None = None,
    scenario: str | Path | None = None,
    problems: list[Problem] | None = None,
    checks: Checks | None = None,
) -> Run:
    """Load a dataset (the embedded default when ``data`` is None), apply a scenario file if
    given, and settle every year: what ``dsg run`` does.

    Raises :class:`dsg.InputError` listing every problem of ``problems`` (found by the
    caller, e.g. output paths), the dataset, the scenario and the caller's ``checks``.
    """
    dataset, parsed, problems = load_inputs(data, scenario, problems, needs_dataset=checks is not None)
    return settle_scenario(dataset, parsed, problems=problems, checks=checks)


def explain(
    council: str,
    data: str | Path | None = None,
    scenario: str | Path | None = None,
    problems: list[Problem] | None = None,
):
    """One council's settlement taken apart (``dsg explain``); an unknown council is listed
    with every other problem."""
    from dsg.analysis.explain import council_problems
    from dsg.analysis.explain import explain as explain_council

    outcome = run(data, scenario, problems, checks=lambda dataset: council_problems(dataset, council))
    return explain_council(outcome.allocation, council)


def explain_change(
    council: str,
    data: str | Path | None = None,
    scenario: str | Path | None = None,
    baseline: str | Path | None = None,
    problems: list[Problem] | None = None,
    method: str = "shapley",
):
    """One council under ``scenario`` (a scenario file, a dataset folder, or None for the
    dataset itself) against ``baseline`` (the same kinds; None: the dataset as it stands):
    its IBAs, indicators and steps before and after, and its change split by cause
    (``dsg explain COUNCIL --scenario B --baseline A``)."""
    from dsg.analysis.decompose import decompose
    from dsg.analysis.explain import explain as explain_council
    from dsg.analysis.explain import explain_change as side_by_side
    from dsg.analysis.names import council_problems as unknown_council
    from dsg.formula.dataset import load_dataset

    problems = list(problems or [])
    try:  # the council is checked with every other problem (the comparison lists the dataset's)
        problems += unknown_council(load_dataset(data), council)
    except InputError:
        pass
    comparison = compare([scenario if scenario is not None else DEFAULT_BASELINE], baseline, data, problems)
    after = comparison.scenarios[0]
    decomposition = decompose(comparison.baseline, after, method, "aef")
    return side_by_side(
        explain_council(comparison.baseline, council),
        explain_council(after, council),
        decomposition,
        comparison.baseline_label,
        comparison.labels[0],
    )


def run_settlement(data: str | Path | None = None, scenario: str | Path | None = None) -> Allocation:
    """The scenario's own year, settled: ``run(data, scenario).allocation``."""
    return run(data, scenario).allocation


def scenario_dataset(
    data: str | Path | None = None,
    scenario: str | Path | None = None,
    problems: list[Problem] | None = None,
    checks: Checks | None = None,
) -> Dataset:
    """The dataset of the scenario's own year, its grant moves made, ready for a batch of
    settlements (sweep, Monte Carlo, goal seek); ``checks`` test the command's options
    against it, with every other problem."""
    return run(data, scenario, problems, checks).allocation.dataset


def report_of(outcome: Run) -> GrantReport:
    """A settled run's grant tables and year-by-year path (for a scenario without grant moves
    or years, its one year)."""
    from dsg.formula.scenario import Scenario
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
        # Only the hypothecation table needs the dataset as it stands, before the scenario.
        path.start = outcome.settler.settle(outcome.dataset)
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
    problems = list(problems or [])
    paths = [baseline, *sides]

    def is_dataset(path) -> bool:
        return path is None or str(path) == DEFAULT_BASELINE or Path(path).is_dir()

    parsed = {index: read_scenario(path, problems) for index, path in enumerate(paths) if not is_dataset(path)}
    others = [path for path in paths if path is not None and str(path) != DEFAULT_BASELINE and Path(path).is_dir()]
    if problems and data is None and not others and not any(parsed.values()):
        raise InputError(problems)  # nothing read that the dataset could add problems to
    from dsg.analysis.compare import Comparison, council_problems, side_label, unique_labels
    from dsg.formula.dataset import load_dataset

    try:
        dataset = load_dataset(data)
    except InputError as error:
        raise InputError(problems + [p for s in parsed.values() if s for p in s.problems] + error.problems) from None
    settler = new_settler()
    runs: list[Run | None] = []
    for index, path in enumerate(paths):
        try:
            if path is None or str(path) == DEFAULT_BASELINE:
                runs.append(settle_scenario(dataset, None, settler))
            elif Path(path).is_dir():
                runs.append(settle_scenario(load_dataset(path), None, settler))
            elif parsed[index] is None:
                runs.append(None)
            else:
                runs.append(settle_scenario(dataset, parsed[index], settler))
        except InputError as error:
            problems += error.problems
            runs.append(None)
    raise_if(problems)
    settled = [r for r in runs if r is not None]
    raise_if(council_problems(settled[0].allocation, [r.allocation for r in settled[1:]], [str(p) for p in sides]))
    labels = [side_label(p, r.allocation, dataset) for p, r in zip(paths, settled)]
    return Comparison(
        baseline=settled[0].allocation,
        scenarios=tuple(r.allocation for r in settled[1:]),
        baseline_label=labels[0],
        labels=tuple(unique_labels(labels[1:])),
    )


# --------------------------------------------------------------------------- dataset folders


def check_dataset(data: str | Path | None = None) -> Run:
    """Load a dataset and settle it as it stands (``dsg data check``): every problem of its
    files, or of its settlement, is raised at once."""
    return run(data)


def export_dataset(out: str | Path, data: str | Path | None = None) -> Path:
    """Write a dataset's files (by default the embedded one) into folder ``out``, for editing
    (``dsg data export``). Returns the folder."""
    from dsg.formula.dataset import load_dataset, raw_files
    from dsg.output.files import dataset_folder_problems

    problems = dataset_folder_problems(out, [data] if data is not None else [])
    try:
        load_dataset(data)
    except InputError as error:
        problems += error.problems
    raise_if(problems)
    return write_dataset_files(raw_files(data), Path(out))


def import_ibas(
    file: str | Path,
    out: str | Path,
    like: str | Path | None = None,
    blocks: str | Path | None = None,
    year: str | None = None,
):
    """Build a dataset from an IBA table (``dsg data import-ibas``, see dsg.formula.ibas),
    check that it loads and settles, and write it as folder ``out``.

    Returns the :class:`dsg.formula.ibas.Imported` summary; raises :class:`dsg.InputError`
    with every problem of the table, the block map, ``like`` and ``out`` at once.
    """
    from dsg.formula.dataset import load_dataset
    from dsg.formula.ibas import import_ibas as build
    from dsg.output.files import dataset_folder_problems

    problems = dataset_folder_problems(out, [p for p in (file, like, blocks) if p is not None])
    try:
        like_dataset = load_dataset(like)
    except InputError as error:
        raise InputError(problems + error.problems) from None
    try:
        imported = build(file, like_dataset, like, blocks, year, name=Path(out).resolve().name)
    except InputError as error:
        raise InputError(problems + error.problems) from None
    raise_if(problems)
    write_dataset_files(imported.files, Path(out), settles=True)
    return imported


def write_dataset_files(files: dict[str, bytes], out: Path, settles: bool = False) -> Path:
    """Write a dataset folder whole, or nothing: with ``settles``, only once the written files
    load and settle (problems are then reported on ``out``, not on the temporary folder)."""
    from dsg.output.files import atomic_folder

    try:
        with atomic_folder(out) as folder:
            for name, data in files.items():
                (folder / name).write_bytes(data)
            if settles:
                try:
                    run(folder)
                except InputError as error:
                    named = [replace(p, file=p.file.replace(str(folder), str(out))) for p in error.problems]
                    raise InputError(named) from None
    except OSError as exc:
        raise InputError([Problem(str(out), "cannot_write", params={"reason": exc.strerror or str(exc)})]) from None
    return out


# --------------------------------------------------------------------------- the formula


def formula(data: str | Path | None = None, service: str | None = None) -> tuple[Dataset, str | None]:
    """The dataset and the service ``service`` names, forgivingly (``dsg formula``); an
    unknown service is a problem with the nearest names."""
    from dsg.analysis.names import service_named
    from dsg.formula.spellings import service_spellings, unknown

    dataset, _, _ = load_inputs(data, None, needs_dataset=True)
    if service is None:
        return dataset, None
    found = service_named(dataset, service)
    if found is None:
        raise InputError([unknown("--service", "service", service, service_spellings(dataset))])
    return dataset, found


def new_scenario(out: str | Path, data: str | Path | None = None, lang: str = "en") -> Path:
    """Write a scenario file holding the dataset's formula and parameters as they stand
    (``dsg scenario new``); ``dsg run --scenario`` on it reproduces the dataset exactly."""
    from dsg.output.scenario_file import scenario_path_problems, write_scenario

    inputs = [data] if data is not None else []
    dataset, _, _ = load_inputs(data, None, scenario_path_problems(out, inputs))
    return write_scenario(dataset, out, lang, inputs)


# --------------------------------------------------------------------------- the report page


def report(
    out: str | Path,
    sides: list[str | Path],
    baseline: str | Path | None = None,
    data: str | Path | None = None,
    decompose: bool = False,
    lang: str = "en",
    problems: list[Problem] | None = None,
) -> Path:
    """Compare ``sides`` with ``baseline`` (as ``compare``) and write the report page to
    ``out`` (``dsg report``). Every problem of the inputs, of ``out`` and the caller's
    ``problems`` is raised at once."""
    from dsg.output.report import report_path_problems, write_report

    comparison = compare(sides, baseline, data, report_path_problems(out) + list(problems or []))
    parts = None
    if decompose:
        from dsg.analysis.decompose import decompose_comparison

        parts = decompose_comparison(comparison)
    return write_report(comparison, out, lang, parts)
