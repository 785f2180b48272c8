"""Regenerate the expected files of every case in tests/cases/.

Each ``tests/cases/<name>.toml`` is run on the embedded dataset and its allocation written to
``tests/cases/<name>.csv`` exactly as ``dsg run --out`` would (one year: the SPEC §4 table;
several years: a leading ``year`` column). The provenance sidecar is left behind in a
temporary folder.

A case whose scenario moves grants also keeps the grant-report tables that show the moves
(the allocation CSV does not show grants): ``tests/cases/<name>.dehypothecation.csv`` and
``tests/cases/<name>.consolidation.csv``, as ``dsg grants report`` rounds them, each written
only when the table has rows. Expected grant files a case no longer produces are deleted.

Run ``python -m tools.update_cases`` after a deliberate change (or
``python -m tools.update_cases NAME ...`` for some cases), then read the diff and
tests/cases/README.md before committing the new files.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "cases"
# The grant-report tables kept as expected files, in this order.
GRANT_TABLES = ("dehypothecation", "consolidation")


def case_names() -> list[str]:
    """Every case, by file name without ``.toml``, in a stable order."""
    return sorted(path.stem for path in CASES.glob("*.toml"))


def grant_file(name: str, table: str) -> Path:
    """The expected grant table ``table`` of case ``name``."""
    return CASES / f"{name}.{table}.csv"


def expected_grant_files() -> list[tuple[str, str]]:
    """Every (case, table) whose expected grant file exists, in a stable order."""
    return [(name, table) for name in case_names() for table in GRANT_TABLES if grant_file(name, table).exists()]


def write_case_csv(scenario: Path, target: Path) -> Path:
    """Run ``scenario`` on the embedded dataset and write its allocation CSV to ``target``
    (its provenance sidecar lands beside it)."""
    from dsg.output.export import write_allocation
    from dsg.pipeline import run

    result = run(None, scenario)
    return write_allocation(list(result.allocations), target, "en", list(result.years))


def case_grant_tables(scenario: Path) -> dict:
    """Run ``scenario`` on the embedded dataset and return its non-empty dehypothecation and
    consolidation tables (polars frames in whole pounds, as exported); none when it moves no
    grants."""
    from dsg.output.export import grant_tables
    from dsg.pipeline import report_of, run

    result = run(None, scenario)
    if result.path is None or not (result.path.dehypothecation or result.path.consolidation):
        return {}
    tables = grant_tables(report_of(result), "en")
    return {table: tables[table] for table in GRANT_TABLES if tables[table].height > 0}


def write_grant_csvs(scenario: Path, folder: Path, name: str) -> dict[str, Path]:
    """Write the grant tables of ``scenario`` as ``<folder>/<name>.<table>.csv``."""
    written = {}
    for table, frame in case_grant_tables(scenario).items():
        target = folder / f"{name}.{table}.csv"
        frame.write_csv(target)
        written[table] = target
    return written


def update(names: list[str] | None = None) -> list[Path]:
    """Write the expected CSVs of each named case (all when ``names`` is None)."""
    written = []
    with tempfile.TemporaryDirectory() as folder:
        for name in names or case_names():
            scenario = CASES / f"{name}.toml"
            produced = write_case_csv(scenario, Path(folder) / f"{name}.csv")
            expected = CASES / f"{name}.csv"
            shutil.copyfile(produced, expected)
            written.append(expected)
            tables = write_grant_csvs(scenario, Path(folder), name)
            for table in GRANT_TABLES:
                expected = grant_file(name, table)
                if table in tables:
                    shutil.copyfile(tables[table], expected)
                    written.append(expected)
                elif expected.exists():
                    expected.unlink()
                    print(f"removed {expected.relative_to(ROOT)}")
    return written


def main(argv: list[str]) -> int:
    for path in update(argv or None):
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
