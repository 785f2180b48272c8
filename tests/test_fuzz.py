"""Fuzzing: corrupted datasets and scenarios are refused cleanly or settled right (issue 10, item 6).

Hypothesis corrupts the toy dataset (values of every kind and magnitude, encodings, line
endings, missing and extra rows and columns, files replaced by folders or left empty) and draws
scenarios of wrong kinds, and runs ``dsg run --out``. Whatever it draws, dsg must exit 0 with a
complete, finite table whose rows add up, or exit 2 listing problems — never a traceback, never
a partial or stray file.

CI runs a bounded number of examples; ``DSG_FUZZ_EXAMPLES=5000 pytest tests/test_fuzz.py`` runs
a longer search (see CONTRIBUTING.md).
"""

from __future__ import annotations

import datetime as dt
import math
import os
from pathlib import Path

import polars as pl
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsg.cli import main
from dsg.formula.settle import MONEY_COLUMNS
from tests.conftest import TOY_FILES, write_dataset

EXAMPLES = int(os.environ.get("DSG_FUZZ_EXAMPLES", "120"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Cells a spreadsheet or a careless export might hold.
CELLS = st.sampled_from(
    [
        "",
        " ",
        "abc",
        "0",
        "-0",
        "1",
        "-5",
        "7 ",
        " 12",
        "1e308",
        "-1e308",
        "1e309",
        "nan",
        "NaN",
        "inf",
        "-inf",
        "1_000",
        "0x10",
        "1e-320",
        "5e-324",
        "3e20",
        "1e15",
        "999999999999999999999999",
        "1,000",
        "£5",
        "=SUM(A1)",
        "+1",
        "@x",
        "Ynys Môn",
        "\u00a0",
        "\ufeff1",
        "W06000999",
        "A",
        "S1",
        "pop",
    ]
)
# TOML values of every kind, for scenarios.
TOML_VALUES = st.one_of(
    st.integers(min_value=-(10**25), max_value=10**25),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.booleans(),
    st.just([1, 2]),
    st.just({"a": 1}),
    st.just(dt.date(2025, 4, 1)),
    st.just(dt.time(12, 0)),
)
SCENARIO_KEYS = st.sampled_from(
    [
        ("settlement", "floor_percent"),
        ("settlement", "cap_percent"),
        ("settlement", "aef_total"),
        ("settlement", "notional_band_d"),
        ("settlement", "floor_funding"),
        ("settlement", "ndr_pool"),
        ("services", "S1"),
        ("services", "S2"),
        ("weights.S2", "pop"),
        ("weights.S2", "dep"),
        ("settlement", "ndr_indicator"),
        ("", "name"),
        ("", "flor_percent"),
    ]
)


def toml_value(value) -> str:
    """A Python value written as TOML (enough for the kinds drawn above)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    return value.isoformat()


@st.composite
def corrupted_files(draw) -> dict[str, str | bytes | None]:
    """The toy dataset's files with one to three corruptions (None: the file is removed)."""
    files: dict[str, str | bytes | None] = dict(TOY_FILES)
    csvs = [name for name in files if name.endswith(".csv")]
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from([*csvs, "dataset.toml"]))
        text = files[name]
        if not isinstance(text, str):
            continue
        how = draw(
            st.sampled_from(
                [
                    "cell",
                    "cell",
                    "cell",
                    "drop_row",
                    "dup_row",
                    "drop_col",
                    "add_col",
                    "crlf",
                    "cr",
                    "bom",
                    "latin1",
                    "truncate",
                    "remove",
                    "empty",
                    "toml_value",
                ]
            )
        )
        lines = text.splitlines()
        if not lines:  # emptied by an earlier corruption
            continue
        if how == "cell" and name.endswith(".csv") and len(lines) > 1:
            row = draw(st.integers(1, len(lines) - 1))
            cells = lines[row].split(",")
            cells[draw(st.integers(0, len(cells) - 1))] = draw(CELLS).replace(",", ";")
            lines[row] = ",".join(cells)
            files[name] = "\n".join(lines) + "\n"
        elif how == "drop_row" and len(lines) > 1:
            del lines[draw(st.integers(1, len(lines) - 1))]
            files[name] = "\n".join(lines) + "\n"
        elif how == "dup_row" and len(lines) > 1:
            lines.append(lines[draw(st.integers(1, len(lines) - 1))])
            files[name] = "\n".join(lines) + "\n"
        elif how == "drop_col" and name.endswith(".csv"):
            column = draw(st.integers(0, len(lines[0].split(",")) - 1))
            files[name] = (
                "\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != column) for line in lines) + "\n"
            )
        elif how == "add_col" and name.endswith(".csv"):
            files[name] = "\n".join(line + (",note" if i == 0 else ",x") for i, line in enumerate(lines)) + "\n"
        elif how == "crlf":
            files[name] = text.replace("\n", "\r\n")
        elif how == "cr":
            files[name] = text.replace("\n", "\r")
        elif how == "bom":
            files[name] = "\ufeff" + text
        elif how == "latin1":
            files[name] = (
                (text + "Z,Môn,Môn\n").encode("latin-1", errors="replace")
                if name == "councils.csv"
                else text.encode("utf-16")
            )
        elif how == "truncate":
            files[name] = text[: draw(st.integers(0, len(text)))]
        elif how == "remove":
            files[name] = None
        elif how == "empty":
            files[name] = ""
        elif how == "toml_value" and name == "dataset.toml":
            key = draw(st.sampled_from(["aef_total", "ndr_pool", "floor_percent", "floor_funding", "ndr_indicator"]))
            value = toml_value(draw(TOML_VALUES))
            files[name] = "\n".join(f"{key} = {value}" if line.startswith(f"{key} ") else line for line in lines) + "\n"
    return files


@st.composite
def scenarios(draw) -> str:
    tables: dict[str, list[str]] = {}
    for _ in range(draw(st.integers(1, 4))):
        table, key = draw(SCENARIO_KEYS)
        tables.setdefault(table, []).append(f"{key} = {toml_value(draw(TOML_VALUES))}")
    parts = list(tables.pop("", []))
    for table, lines in tables.items():
        name = table if "." not in table else 'weights."' + table.split(".", 1)[1] + '"'
        parts.append(f"[{name}]")
        parts += lines
    if draw(st.booleans()):
        parts.append('[[years]]\nyear = "2026-27"\n' + f"floor_percent = {toml_value(draw(TOML_VALUES))}")
    return "\n".join(parts) + "\n"


def write_files(directory: Path, files: dict[str, str | bytes | None]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        if content is None:
            continue
        if isinstance(content, bytes):
            (directory / name).write_bytes(content)
        else:
            (directory / name).write_text(content, encoding="utf-8", newline="")
    return directory


def check_outcome(result, out: Path, folder: Path) -> None:
    """Exit 0 with a whole, finite table that adds up, or exit 2 and nothing written."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 2), result.output
    assert not list(folder.glob(".*.part")), "a temporary file was left behind"
    if result.exit_code == 2:
        assert not out.exists(), "a refused run wrote its output"
        return
    table = pl.read_csv(out)
    for column in MONEY_COLUMNS:
        values = table[column].to_list()
        assert all(isinstance(v, int) for v in values), (column, values)
    assert all(math.isfinite(v) for v in table["pct_change"].to_list())
    years = table.partition_by("year") if "year" in table.columns else [table]
    for year in years:
        assert sorted(year["rank"].to_list()) == list(range(1, year.height + 1))


@FUZZ
@given(files=corrupted_files())
def test_a_corrupted_dataset_is_refused_or_settled(tmp_path_factory, files):
    folder = tmp_path_factory.mktemp("fuzz")
    data = write_files(folder / "data", files)
    out = folder / "out" / "allocation.csv"
    result = CliRunner().invoke(main, ["run", "--data", str(data), "--out", str(out)], env={"DSG_LANG": "en"})
    check_outcome(result, out, out.parent if out.parent.exists() else folder)


@FUZZ
@given(text=scenarios())
def test_a_scenario_of_any_kind_is_refused_or_settled(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("fuzz")
    data = write_dataset(folder / "toy")
    path = folder / "s.toml"
    path.write_text(text, encoding="utf-8")
    out = folder / "allocation.csv"
    result = CliRunner().invoke(
        main, ["run", "--data", str(data), "--scenario", str(path), "--out", str(out)], env={"DSG_LANG": "en"}
    )
    check_outcome(result, out, folder)
