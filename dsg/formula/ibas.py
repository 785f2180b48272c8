"""Official IBA tables in: a dataset whose indicators are the published IBA lines.

StatsWales publishes each council's indicator-based assessment line by line. Imported, each
line becomes an indicator whose values are the councils' £ amounts on that line, and each block
of lines a service whose weights are the lines' shares of the block's Wales total. The formula
then gives back every council's amount exactly, with no calibration:
``iba[s,i] = A_s * sum_k (T_k / A_s) * x[k,i] / T_k = sum_k x[k,i]``.
Everything else (councils, tax base, base, settlement parameters, NDR, grants, and a fixed
element unless it is a calibration residual) is copied from another dataset, ``like``.
"""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from dsg.errors import Problem, Problems, raise_if
from dsg.formula.dataset import (
    CALIBRATION_RESIDUAL,
    ROW,
    Dataset,
    has_status,
    raw_files,
    read_csv_text,
    rows,
    trimmed_rows,
)
from dsg.formula.inputs import CSV_LIMIT, read_input
from dsg.formula.names import plain, suggestions
from dsg.formula.params import check_number
from dsg.formula.spellings import council_code, unknown_council
from dsg.i18n import name_of

# Headers an IBA file may use for each role, compared plainly (case, spaces and punctuation
# aside), in order of preference: the StatsWales download's names and plain ones.
HEADERS = {
    "council": ("ons code", "code", "council", "unitary authority", "authority", "local authority"),
    "line": ("line", "iba line", "service", "indicator name", "indicator"),
    "value": ("value", "data values", "data value", "amount"),
    "year": ("year",),
}
# Columns of a StatsWales download that carry no figures.
IGNORED_HEADERS = ("data description", "description", "notes", "note")
# A row for all of Wales is a total, not a council: it would count every council twice.
TOTAL_ROWS = ("wales", "cymru", "total", "all wales", "wales total", "cyfanswm", "cymru gyfan")
IBA_LINE = "IBA line"
IBA_FORMATS = (".csv", ".xlsx")


@dataclass
class Imported:
    """The files of the new dataset, by name, and what the import did."""

    files: dict[str, bytes]
    like: str  # the name of the dataset the rest was copied from
    year: str
    councils: int
    lines: list[str]
    blocks: list[str]
    left_out: list[str] = field(default_factory=list)  # lines that are 0 for every council
    residual_left_out: bool = False
    set_aside: int = 0  # rows of other years than the one imported


def read_table(path: Path, label: str, problems: list[Problem]) -> pl.DataFrame | None:
    """A CSV or XLSX file (its first sheet) as trimmed text columns, with spreadsheet rows."""
    suffix = path.suffix.lower()
    if suffix not in IBA_FORMATS:
        problems.append(
            Problem(label, "unknown_extension", params={"value": path.name, "allowed": ", ".join(IBA_FORMATS)})
        )
        return None
    data = read_input(path, label, problems, limit=CSV_LIMIT, kind=suffix[1:].upper())
    if data is None:
        return None
    if suffix == ".csv":
        return read_csv_text(data, label, (), problems)
    try:
        frame = pl.read_excel(io.BytesIO(data), sheet_id=1, infer_schema_length=0)
    except Exception as exc:  # the reader's own errors vary with the file's fault
        problems.append(Problem(label, "unreadable_xlsx", params={"reason": str(exc).splitlines()[0]}))
        return None
    return trimmed_rows(frame.rename({c: c.strip() for c in frame.columns}))


def column_for(frame: pl.DataFrame, role: str) -> str | None:
    """The file's column for ``role``, by the first of its accepted headers present."""
    by_plain = {plain(column): column for column in frame.columns if column != ROW}
    return next((by_plain[h] for h in HEADERS[role] if h in by_plain), None)


@dataclass
class Amounts:
    """Each council's amount on each line, as read: (ons_code, line) -> (value, row)."""

    values: dict[tuple[str, str], tuple[float, int]] = field(default_factory=dict)
    lines: dict[str, str] = field(default_factory=dict)  # plain name -> the name as first written
    years: dict[str, str] = field(default_factory=dict)
    set_aside: int = 0  # rows of other years than the one imported


def read_amounts(frame: pl.DataFrame, like: Dataset, year: str | None, label: str, problems: list[Problem]) -> Amounts:
    """Check every row of a long or wide IBA table and collect its amounts."""
    amounts = Amounts()
    council = column_for(frame, "council")
    if council is None:
        expected = ", ".join(HEADERS["council"])
        problems.append(Problem(label, "iba_no_council_column", row=1, params={"expected": expected}))
        return amounts
    year_column = column_for(frame, "year")
    line, value = column_for(frame, "line"), column_for(frame, "value")
    long = line is not None and value is not None
    if long:
        line_columns = []
    else:
        taken = {council, year_column, line, value} - {None}
        line_columns = [c for c in frame.columns if c not in taken and c != ROW and plain(c) not in IGNORED_HEADERS]
        if not line_columns:
            problems.append(Problem(label, "iba_no_lines", row=1))
            return amounts
    if year_column is not None:
        found = dict.fromkeys(r for r in frame[year_column].to_list() if r)
        amounts.years = {plain(y): y for y in found}
        if year is None and len(amounts.years) > 1:
            problems.append(Problem(label, "iba_several_years", key=year_column, params={"years": ", ".join(found)}))
            return amounts
        if year is not None and plain(year) not in amounts.years:
            params = {"year": year, "years": ", ".join(found)}
            problems.append(Problem(label, "iba_year_absent", key=year_column, params=params))
            return amounts
    first_row: dict[tuple[str, str], int] = {}
    names = dict(like.councils.select("ons_code", "name_en").iter_rows())
    for row, record in rows(frame):
        name = record[council] or ""
        if not name:
            problems.append(Problem(label, "empty_cell", row, council))
            continue
        if plain(name) in TOTAL_ROWS:
            problems.append(Problem(label, "iba_total_row", row, council, {"value": name}))
            continue
        code = council_code(like, name)
        if code is None:
            problems.append(unknown_council(like, name, label, row, council))
            continue
        if year is not None and year_column is not None and plain(record[year_column] or "") != plain(year):
            amounts.set_aside += 1  # another year's row, as a download of several years has
            continue
        cells = [(record[line] or "", record[value])] if long else [(c, record[c]) for c in line_columns]
        for line_name, cell in cells:
            if not line_name:
                problems.append(Problem(label, "empty_cell", row, line))
                continue
            key = (code, amounts.lines.setdefault(plain(line_name), line_name))
            if key in first_row:
                duplicate: dict = {"council": f"{code} ({names[code]})", "line": key[1], "first": first_row[key]}
                problems.append(Problem(label, "iba_duplicate", row, line_name if not long else line, duplicate))
                continue
            first_row[key] = row
            number = check_number(
                cell, problems, label, row=row, key=(value if long else line_name) or "", kind="indicator"
            )
            if number is not None:
                amounts.values[key] = (number, row)
    return amounts


def missing_problems(amounts: Amounts, like: Dataset, label: str) -> list[Problem]:
    """Each council of ``like`` needs an amount on every line; a council with none at all is
    said once."""
    problems = Problems()
    with_rows = {code for code, _ in amounts.values}
    for code, name in like.councils.select("ons_code", "name_en").iter_rows():
        if code not in with_rows:
            problems.append(Problem(label, "iba_missing_council", params={"council": f"{code} ({name})"}))
            continue
        for line in amounts.lines.values():
            if (code, line) not in amounts.values:
                problems.append(
                    Problem(label, "iba_missing_line", params={"council": f"{code} ({name})", "line": line})
                )
    return problems


def read_blocks(
    path: Path, lines: dict[str, str], label: str, problems: list[Problem]
) -> dict[str, tuple[str, str | None]]:
    """The block of each mapped line, from a CSV with columns ``line,service`` (and an
    optional Welsh name ``name_cy``): line -> (service, Welsh name or None)."""
    data = read_input(path, label, problems, limit=CSV_LIMIT, kind="CSV")
    frame = read_csv_text(data, label, ("line", "service"), problems) if data is not None else None
    if frame is None:
        return {}
    blocks: dict[str, tuple[str, str | None]] = {}
    first: dict[str, int] = {}
    spellings: dict[str, tuple[str, ...]] = {name: (name,) for name in lines.values()}
    for row, record in rows(frame):
        line, service = record["line"] or "", record["service"] or ""
        for column, text in (("line", line), ("service", service)):
            if not text:
                problems.append(Problem(label, "empty_cell", row, column))
        if not line or not service:
            continue
        found = lines.get(plain(line))
        if found is None:
            near = suggestions(line, spellings)
            code, params = ("unknown_line_suggest", {"suggestions": " / ".join(near)}) if near else ("unknown_line", {})
            problems.append(Problem(label, code, row, "line", {"value": line, **params}))
        elif found in first:
            problems.append(Problem(label, "duplicate_row", row, "line", {"value": line, "first": first[found]}))
        else:
            first[found] = row
            blocks[found] = (service, record.get("name_cy") or None)
    return blocks


def number_text(value: float) -> str:
    """A float written so that it reads back as the same float."""
    return repr(float(value))


def import_ibas(
    path: str | Path,
    like: Dataset,
    like_path: str | Path | None = None,
    blocks_path: str | Path | None = None,
    year: str | None = None,
    name: str = "ibas",
) -> Imported:
    """Build the files of a dataset from an IBA table (see the module's docstring).

    ``like`` is the dataset the rest is copied from, loaded from ``like_path`` (None: the
    embedded default). Raises :class:`dsg.InputError` with every problem of the file and the
    block map at once.
    """
    path = Path(path)
    label = str(path)
    problems: list[Problem] = Problems()
    frame = read_table(path, label, problems)
    amounts = read_amounts(frame, like, year, label, problems) if frame is not None else Amounts()
    if frame is not None and not problems:
        problems.extend(missing_problems(amounts, like, label))
    copied = (
        like.indicators.filter(pl.col("status").fill_null("") != IBA_LINE)
        if "status" in like.indicators.columns
        else like.indicators
    )
    taken = {plain(indicator): indicator for indicator in copied["indicator"].unique().to_list()}
    for line in amounts.lines.values():
        if plain(line) in taken:
            problems.append(
                Problem(
                    label, "iba_line_clash", params={"line": line, "indicator": taken[plain(line)], "like": like.name}
                )
            )
    blocks = read_blocks(Path(blocks_path), amounts.lines, str(blocks_path), problems) if blocks_path else {}
    raise_if(problems)

    year = year or (next(iter(amounts.years.values())) if len(amounts.years) == 1 else like.year)
    codes = like.council_codes
    lines = list(amounts.lines.values())
    totals = {line: math.fsum(amounts.values[(code, line)][0] for code in codes) for line in lines}
    left_out = [line for line in lines if not totals[line] > 0.0]
    kept = [line for line in lines if totals[line] > 0.0]
    like_names_cy = {plain(s): cy for s, cy in like.services.select("service", "name_cy").iter_rows()}
    services: dict[str, list[str]] = {}
    service_names: dict[str, str] = {}
    welsh: dict[str, str] = {}
    for line in kept:
        service, name_cy = blocks.get(line, (line, None))
        service = service_names.setdefault(plain(service), service)
        services.setdefault(service, []).append(line)
        welsh.setdefault(service, name_cy or like_names_cy.get(plain(service)) or service)

    source = path.name
    new_indicators = pl.DataFrame(
        {
            "ons_code": [code for line in kept for code in codes],
            "indicator": [line for line in kept for _ in codes],
            "value": [number_text(amounts.values[(code, line)][0]) for line in kept for code in codes],
            "unit": "£",
            "year": year,
            "status": IBA_LINE,
            "source": source,
        }
    )
    indicators = pl.concat(
        [copied.with_columns(pl.col("value").map_elements(number_text, return_dtype=pl.String)), new_indicators],
        how="diagonal_relaxed",
    )
    block_totals = {service: math.fsum(totals[line] for line in members) for service, members in services.items()}
    services_frame = pl.DataFrame(
        {
            "service": list(services),
            "total": [number_text(block_totals[s]) for s in services],
            "name_cy": [welsh[s] for s in services],
            "status": IBA_LINE,
            "source": source,
        }
    )
    weights = pl.DataFrame(
        {
            "service": [s for s, members in services.items() for _ in members],
            "indicator": [line for members in services.values() for line in members],
            "weight": [
                number_text(totals[line] / block_totals[s]) for s, members in services.items() for line in members
            ],
            "status": IBA_LINE,
            "reason": "the line's share of its block's Wales total",
        }
    )

    raw = raw_files(
        like_path, ("dataset.toml", "councils.csv", "base.csv", "fixed.csv", "grants.csv", "grant_catalogue.csv")
    )
    files: dict[str, bytes] = {
        name: raw[name] for name in ("councils.csv", "base.csv", "grants.csv", "grant_catalogue.csv") if name in raw
    }
    residual_left_out = False
    if "fixed.csv" in raw:
        fixed = pl.read_csv(io.BytesIO(raw["fixed.csv"]), infer_schema=False)
        residual = has_status(fixed, CALIBRATION_RESIDUAL)
        if residual is not None:
            residual_left_out = bool(residual.any())
            fixed = fixed.filter(~residual)
        if fixed.height:
            files["fixed.csv"] = csv_bytes(fixed)
    files["indicators.csv"] = csv_bytes(indicators)
    files["services.csv"] = csv_bytes(services_frame)
    files["weights.csv"] = csv_bytes(weights)
    files["dataset.toml"] = dataset_toml(like, raw["dataset.toml"], name, year, source, path, residual_left_out)
    return Imported(
        files, like.name, year, len(codes), kept, list(services), left_out, residual_left_out, amounts.set_aside
    )


def csv_bytes(frame: pl.DataFrame) -> bytes:
    return frame.write_csv().encode("utf-8")


def dataset_toml(
    like: Dataset, like_toml: bytes, name: str, year: str, source: str, path: Path, residual_left_out: bool
) -> bytes:
    import tomllib

    import tomlkit

    meta = tomllib.loads(like_toml.decode("utf-8").removeprefix("\ufeff"))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    table = {
        "name": name,
        "year": year,
        "title_en": name_of("words", "imported_title", "en").format(year=year, file=source),
        "title_cy": name_of("words", "imported_title", "cy").format(year=year, file=source),
        "description": name_of("words", "imported_description", "en").format(file=source, like=like.name),
        **({"licence": meta["licence"]} if "licence" in meta else {}),
        "settlement": meta["settlement"],
        "provenance": {
            "built_by": "dsg data import-ibas",
            "imported_from": source,
            "imported_sha256": digest,
            "like": like.name,
            "fixed": "calibration residual left out" if residual_left_out else "copied",
        },
    }
    return tomlkit.dumps(table).encode("utf-8")
