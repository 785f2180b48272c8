"""Expected-output cases: each tests/cases/<name>.toml settled on the embedded dataset must
give exactly tests/cases/<name>.csv, and a case that moves grants also exactly its grant
tables tests/cases/<name>.dehypothecation.csv and tests/cases/<name>.consolidation.csv.

The expected files were written by the code (``python -m tools.update_cases``) and checked by
hand once against SPEC §3 and §5; tests/cases/README.md says what was checked for each. On a
mismatch the actual file is left beside the expected one as ``<name>.actual.csv`` (or
``<name>.<table>.actual.csv``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from tools.update_cases import (
    CASES,
    GRANT_TABLES,
    case_grant_tables,
    case_names,
    expected_grant_files,
    grant_file,
    write_case_csv,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# The README's and docs' examples are cases too, kept identical to examples/.
EXAMPLE_CASES = (
    "deprivation",
    "final-floor",
    "floor-3.5",
    "grants",
    "regional-transport",
    "self-funded-floor",
    "three-years",
)
MINIMUM_CASES = 9
# Cases whose grant moves must stay covered by expected grant tables.
MINIMUM_GRANT_FILES = 5


@cache
def grant_tables_of(name: str) -> dict:
    """The case's non-empty dehypothecation and consolidation tables (run once per session)."""
    return case_grant_tables(CASES / f"{name}.toml")


def compare(name: str, what: str, actual: bytes, expected: Path, review: Path) -> None:
    """Pass when ``actual`` equals ``expected`` byte for byte; otherwise leave it in ``review``."""
    if expected.exists() and actual == expected.read_bytes():
        review.unlink(missing_ok=True)
        return
    review.write_bytes(actual)
    pytest.fail(
        f"{name}: the {what} differs from {expected}; the actual one is in {review}. "
        "If the change is intended, run `python -m tools.update_cases` and check the diff."
    )


def test_there_are_enough_cases():
    names = case_names()
    assert len(names) >= MINIMUM_CASES, f"only {len(names)} cases in {CASES}"
    for name in names:
        assert (CASES / f"{name}.csv").exists(), f"{name}.toml has no expected {name}.csv"
    assert len(expected_grant_files()) >= MINIMUM_GRANT_FILES, "grant tables missing from tests/cases"


@pytest.mark.parametrize("name", EXAMPLE_CASES)
def test_example_cases_match_examples(name):
    case, example = CASES / f"{name}.toml", EXAMPLES / f"{name}.toml"
    assert case.read_bytes() == example.read_bytes(), f"{case} differs from {example}"


@pytest.mark.parametrize("name", case_names())
def test_case(name, tmp_path):
    actual = write_case_csv(CASES / f"{name}.toml", tmp_path / f"{name}.csv")
    compare(name, "allocation", actual.read_bytes(), CASES / f"{name}.csv", CASES / f"{name}.actual.csv")


@pytest.mark.parametrize("name", case_names())
def test_case_has_its_grant_tables(name):
    """Every non-empty grant table a case produces has an expected file, and no expected file
    is left over from a table the case no longer produces."""
    produced = set(grant_tables_of(name))
    kept = {table for table in GRANT_TABLES if grant_file(name, table).exists()}
    assert produced == kept, (
        f"{name}: produces grant tables {sorted(produced)} but tests/cases has {sorted(kept)}; "
        "run `python -m tools.update_cases` and check the new files."
    )


@pytest.mark.parametrize(
    ("name", "table"), [pytest.param(name, table, id=f"{name}.{table}") for name, table in expected_grant_files()]
)
def test_case_grant_table(name, table, tmp_path):
    frame = grant_tables_of(name).get(table)
    if frame is None:
        pytest.fail(f"{name}: no longer produces a {table} table, but {grant_file(name, table)} exists")
    actual = tmp_path / f"{name}.{table}.csv"
    frame.write_csv(actual)
    review = CASES / f"{name}.{table}.actual.csv"
    compare(name, f"{table} table", actual.read_bytes(), grant_file(name, table), review)
