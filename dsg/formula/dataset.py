"""Dataset directories (SPEC §2): loading and validation in one place.

Everything is read as text first and checked row by row, so that a problem is reported
with its file, spreadsheet row and column, and every problem is reported at once.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field, replace
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import polars as pl

from dsg.errors import InputError, Problem, Problems, raise_if
from dsg.formula.inputs import CSV_LIMIT, TOML_LIMIT, missing, parse_toml, read_input
from dsg.formula.names import plain, unknown_key
from dsg.formula.params import WEIGHT_TOLERANCE, Settlement, check_number, finite_sum, parse_settlement

DEFAULT_DATASET = "wales-2025-26"


DATASET_KEYS = ("name", "year", "title_en", "title_cy", "description", "licence", "settlement", "provenance")

# file -> (required?, required columns)
FILES = {
    "councils.csv": (True, ("ons_code", "name_en", "name_cy")),
    "indicators.csv": (True, ("ons_code", "indicator", "value")),
    "services.csv": (True, ("service", "total")),
    "weights.csv": (True, ("service", "indicator", "weight")),
    "base.csv": (True, ("ons_code", "base_aef")),
    "fixed.csv": (False, ("ons_code", "amount")),
    "grants.csv": (False, ("grant", "ons_code", "amount")),
    # Not in SPEC §2: each grant's Welsh name, purpose and key, for reports.
    "grant_catalogue.csv": (False, ("grant", "name_cy")),
}


@dataclass(frozen=True)
class Dataset:
    """A validated dataset. Tables are in council order; ``fixed`` covers every council."""

    name: str
    year: str
    title_en: str
    title_cy: str
    settlement: Settlement
    councils: pl.DataFrame
    indicators: pl.DataFrame
    services: pl.DataFrame
    weights: pl.DataFrame
    base: pl.DataFrame
    fixed: pl.DataFrame
    grants: pl.DataFrame | None
    provenance: dict = field(default_factory=dict)
    grant_catalogue: pl.DataFrame | None = None

    @property
    def council_codes(self) -> list[str]:
        return self.councils["ons_code"].to_list()

    def council_names(self, lang: str) -> list[str]:
        return self.councils[f"name_{lang}"].to_list()

    def service_name(self, service: str, lang: str) -> str:
        """A service's name in ``lang`` (services.csv's name_cy in Welsh)."""
        if lang != "cy":
            return service
        return dict(self.services.select("service", "name_cy").iter_rows()).get(service, service)

    def service_names(self, lang: str) -> list[str]:
        """Every service's name in ``lang``, in services.csv order."""
        return [self.service_name(service, lang) for service in self.services["service"].to_list()]

    def grant_name(self, grant: str, lang: str) -> str:
        """A grant's name in ``lang`` from the grant catalogue (its own name when it has none)."""
        if lang != "cy" or self.grant_catalogue is None:
            return grant
        return dict(self.grant_catalogue.select("grant", "name_cy").iter_rows()).get(grant) or grant

    def title(self, lang: str) -> str:
        return self.title_cy if lang == "cy" else self.title_en

    def with_changes(self, **changes) -> Dataset:
        return replace(self, **changes)


# --------------------------------------------------------------------------- parsing helpers


def read_csv_text(data: bytes, label: str, required: tuple[str, ...], problems: list[Problem]) -> pl.DataFrame | None:
    """Read a CSV as text columns, trimmed; report missing columns and unreadable files.

    A UTF-8 byte-order mark (Excel's "CSV UTF-8") is accepted, and so are line endings of
    any kind: CRLF (Windows), CR alone (old Mac) or a mix are read as LF.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    # A CR byte is never part of a longer UTF-8 character, so this is safe before decoding.
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        problems.append(Problem(label, "not_utf8"))
        return None
    text = data.decode("utf-8")
    header = next(csv.reader(io.StringIO(text)), [])
    names = [name.strip() for name in header]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        problems.append(Problem(label, "duplicate_column", row=1, params={"columns": ", ".join(repeated)}))
        return None
    try:
        frame = pl.read_csv(io.BytesIO(data), infer_schema=False)
    except (pl.exceptions.PolarsError, ValueError) as exc:
        problems.append(Problem(label, "unreadable_csv", params={"reason": str(exc).splitlines()[0]}))
        return None
    frame = frame.rename({c: c.strip() for c in frame.columns})
    missing = [c for c in required if c not in frame.columns]
    if missing:
        problems.append(
            Problem(label, "missing_columns", params={"columns": ", ".join(missing), "expected": ", ".join(required)})
        )
        return None
    return trimmed_rows(frame)


def trimmed_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """A table read as text, its cells trimmed, with each line's spreadsheet row in ROW (the
    header is row 1) for messages; blank lines (a trailing one is common) are skipped."""
    columns = frame.columns
    frame = frame.with_columns(pl.col(c).cast(pl.String).str.strip_chars() for c in columns)
    blank = pl.all_horizontal((pl.col(c).is_null() | (pl.col(c) == "")) for c in columns)
    return frame.with_row_index(ROW, offset=2).filter(~blank)


# Status words a dataset's files use that dsg acts on (compared plainly: any case or spacing).
ILLUSTRATIVE = "illustrative"
# A fixed element with this status stands in for the parts of the official formula that are not
# public: imported IBA lines replace it, and outputs say it is there.
CALIBRATION_RESIDUAL = "calibration residual"


def has_status(frame: pl.DataFrame | None, status: str, column: str = "status") -> pl.Series | None:
    """Which rows of ``frame`` have ``status`` in ``column`` (None when there is no such column)."""
    if frame is None or column not in frame.columns:
        return None
    return frame[column].fill_null("").map_elements(plain, return_dtype=pl.String) == plain(status)


# Column holding each CSV line's spreadsheet row (the header is row 1) while a dataset loads.
ROW = "_row"


def rows(frame: pl.DataFrame):
    """(spreadsheet row, row dict) pairs."""
    return ((record[ROW], record) for record in frame.iter_rows(named=True))


def empty_cells(frame: pl.DataFrame, columns: tuple[str, ...], label: str, problems: list[Problem]) -> None:
    """Report key cells (codes, names) left empty."""
    for row, record in rows(frame):
        for column in columns:
            if not record[column]:
                problems.append(Problem(label, "empty_cell", row, column))


def check_duplicates(frame: pl.DataFrame, keys: tuple[str, ...], label: str, problems: list[Problem]) -> None:
    seen: dict[tuple, int] = {}
    for row, record in rows(frame):
        key = tuple(record[k] for k in keys)
        if key in seen:
            problems.append(
                Problem(
                    label,
                    "duplicate_row",
                    row,
                    ", ".join(keys),
                    {"value": " / ".join(map(str, key)), "first": seen[key]},
                )
            )
        else:
            seen[key] = row


def check_known(frame: pl.DataFrame, column: str, known, code: str, label: str, problems: list[Problem]) -> None:
    for row, record in rows(frame):
        if record[column] not in known:
            problems.append(Problem(label, code, row, column, {"value": record[column] or ""}))


def numeric_column(frame: pl.DataFrame, column: str, label: str, problems: list[Problem], kind: str) -> pl.DataFrame:
    """Replace a text column by float64, recording every cell that is not a number of ``kind``
    (dsg.formula.params.RANGES) with its row."""
    values = [
        check_number(record[column], problems, label, row=row, key=column, kind=kind) for row, record in rows(frame)
    ]
    return frame.with_columns(pl.Series(column, values, dtype=pl.Float64))


# --------------------------------------------------------------------------- cross-file checks


def council_label(code: str, name_en: str, name_cy: str) -> str:
    """A council in a message: its code and both names, as a problem may be read in either language."""
    return f"{code} ({name_en})" if name_en == name_cy else f"{code} ({name_en} / {name_cy})"


def indicator_problems(
    indicators: pl.DataFrame, councils: pl.DataFrame, used: dict[str, tuple[str, str]]
) -> list[Problem]:
    """Every council has a value for every used indicator, and its Wales total is positive.

    ``used`` maps each indicator to the (file, key) that uses it, for the message.
    """
    problems = []
    codes = councils["ons_code"].to_list()
    names = {
        code: council_label(code, en, cy)
        for code, en, cy in councils.select("ons_code", "name_en", "name_cy").iter_rows()
    }
    by_indicator = {
        name: dict(zip(group["ons_code"].to_list(), group["value"].to_list()))
        for (name,), group in indicators.group_by("indicator", maintain_order=True)
    }
    for indicator, (file, key) in used.items():
        values = by_indicator.get(indicator)
        if values is None:
            problems.append(Problem(file, "unknown_indicator", key=key, params={"value": indicator}))
            continue
        # A row whose value could not be read was reported with its row; only absent rows here.
        missing = [code for code in codes if code not in values]
        for code in missing:
            problems.append(
                Problem(
                    file,
                    "indicator_missing_council",
                    key=key,
                    params={"indicator": indicator, "council": names[code]},
                )
            )
        if not missing and None not in values.values() and not finite_sum(values[c] for c in codes) > 0:
            problems.append(Problem(file, "indicator_zero_total", key=key, params={"indicator": indicator}))
    return problems


def weight_sum_problems(
    weights: pl.DataFrame, label: str, key_of=lambda service: f"service {service}"
) -> list[Problem]:
    problems = []
    for (service,), group in weights.group_by("service", maintain_order=True):
        total = finite_sum(group["weight"].to_list())
        if abs(total - 1.0) > WEIGHT_TOLERANCE:
            problems.append(Problem(label, "weights_not_one", key=key_of(service), params={"total": f"{total:.12g}"}))
    return problems


def used_indicators(
    weights: pl.DataFrame, settlement: Settlement, weights_file: str, settlement_file: str
) -> dict[str, tuple[str, str]]:
    """Each indicator the settlement needs, with the first (file, key) that needs it."""
    used: dict[str, tuple[str, str]] = {}
    for service, indicator in weights.select("service", "indicator").iter_rows():
        used.setdefault(indicator, (weights_file, f"service {service}"))
    for key, indicator in settlement.indicators().items():
        used.setdefault(indicator, (settlement_file, f"settlement.{key}"))
    return used


# --------------------------------------------------------------------------- loading


def embedded_dataset_dir(name: str = DEFAULT_DATASET) -> Traversable:
    return resources.files("dsg.data").joinpath(name)


def dataset_dir(path: str | Path | None) -> Path | Traversable:
    """The folder of a dataset: ``path``, or the embedded default for ``None``."""
    return embedded_dataset_dir() if path is None else Path(path)


def raw_files(path: str | Path | None, names=None) -> dict[str, bytes]:
    """The bytes of files of a dataset that :func:`load_dataset` has accepted, by name: those
    ``names`` that exist, or every file in its folder (for copying it, as ``dsg data export``
    and ``dsg data import-ibas`` do)."""
    directory = dataset_dir(path)
    if names is None:
        names = sorted(entry.name for entry in directory.iterdir() if entry.is_file())
    problems: list[Problem] = []
    found = {}
    for name in names:
        limit = TOML_LIMIT if name.endswith(".toml") else CSV_LIMIT
        data = read_input(directory.joinpath(name), name, problems, limit=limit, kind="", required=False)
        if data is not None:
            found[name] = data
    raise_if(problems)
    return found


def load_dataset(path: str | Path | None = None) -> Dataset:
    """Load and validate a dataset directory; ``None`` gives the embedded default.

    Raises :class:`InputError` listing every problem found.
    """
    if path is None:
        directory: Traversable = embedded_dataset_dir()
        prefix = DEFAULT_DATASET
    else:
        directory = Path(path)
        prefix = str(path).rstrip("/")
        if not directory.exists():
            raise InputError([missing(directory, prefix, "not_a_directory")])
        if not directory.is_dir():
            raise InputError([Problem(prefix, "not_a_directory")])

    problems: list[Problem] = Problems()
    raw: dict[str, bytes] = {}
    for name in ("dataset.toml", *FILES):
        # Only a name that does not exist is an absent optional file: a folder, a pipe or a
        # broken link standing there is a problem (read_input), never "no fixed element".
        toml = name == "dataset.toml"
        data = read_input(
            directory.joinpath(name),
            f"{prefix}/{name}",
            problems,
            limit=TOML_LIMIT if toml else CSV_LIMIT,
            kind="TOML" if toml else "CSV",
            required=toml or FILES[name][0],
        )
        if data is not None:
            raw[name] = data

    label = lambda name: f"{prefix}/{name}"  # noqa: E731

    meta: dict | None = None
    if "dataset.toml" in raw:
        meta = parse_toml(raw["dataset.toml"], label("dataset.toml"), problems)
    settlement = None
    if meta is not None:
        for key in meta:
            if key not in DATASET_KEYS:
                problems.append(unknown_key(label("dataset.toml"), key, DATASET_KEYS))
        for key in ("name", "year"):
            if not isinstance(meta.get(key), str) or not meta[key].strip():
                problems.append(
                    Problem(label("dataset.toml"), "missing_key" if key not in meta else "expected_text", key=key)
                )
        for key in ("title_en", "title_cy", "description", "licence"):
            if key in meta and not isinstance(meta[key], str):
                problems.append(Problem(label("dataset.toml"), "expected_text", key=key))
        if "provenance" in meta and not isinstance(meta["provenance"], dict):
            problems.append(Problem(label("dataset.toml"), "expected_table", key="provenance"))
        if "settlement" not in meta:
            problems.append(Problem(label("dataset.toml"), "missing_key", key="settlement"))
        else:
            settlement, found = parse_settlement(meta["settlement"], label("dataset.toml"))
            problems += found

    tables = {
        name: read_csv_text(data, label(name), FILES[name][1], problems) for name, data in raw.items() if name in FILES
    }

    councils = tables.get("councils.csv")
    codes: list[str] = []
    if councils is not None:
        for row, record in rows(councils):
            for column in FILES["councils.csv"][1]:
                if not record[column]:
                    problems.append(Problem(label("councils.csv"), "empty_cell", row, column))
        check_duplicates(councils, ("ons_code",), label("councils.csv"), problems)
        codes = councils["ons_code"].to_list()
        if not codes:
            problems.append(Problem(label("councils.csv"), "no_rows"))
    known_codes = set(codes)

    def council_table(name: str, value_column: str, kind: str, complete: bool) -> pl.DataFrame | None:
        frame = tables.get(name)
        if frame is None:
            return None
        empty_cells(frame, ("ons_code",), label(name), problems)
        if councils is not None:
            check_known(frame, "ons_code", known_codes, "unknown_council", label(name), problems)
        check_duplicates(frame, ("ons_code",), label(name), problems)
        frame = numeric_column(frame, value_column, label(name), problems, kind)
        if complete and councils is not None:
            present = set(frame["ons_code"].to_list())
            for code, name_en, name_cy in councils.select("ons_code", "name_en", "name_cy").iter_rows():
                if code not in present:
                    council = council_label(code, name_en, name_cy)
                    problems.append(Problem(label(name), "council_missing", params={"council": council}))
        return frame

    base = council_table("base.csv", "base_aef", "base", complete=True)
    # The fixed element is an adjustment and may be negative (a calibration residual
    # corrects both ways); councils absent from fixed.csv have none.
    fixed = council_table("fixed.csv", "amount", "signed_money", complete=False)

    indicators = tables.get("indicators.csv")
    if indicators is not None:
        empty_cells(indicators, ("ons_code", "indicator"), label("indicators.csv"), problems)
        if councils is not None:
            check_known(indicators, "ons_code", known_codes, "unknown_council", label("indicators.csv"), problems)
        check_duplicates(indicators, ("ons_code", "indicator"), label("indicators.csv"), problems)
        indicators = numeric_column(indicators, "value", label("indicators.csv"), problems, "indicator")

    services = tables.get("services.csv")
    if services is not None:
        empty_cells(services, ("service",), label("services.csv"), problems)
        check_duplicates(services, ("service",), label("services.csv"), problems)
        services = numeric_column(services, "total", label("services.csv"), problems, "money")
        # A service without a Welsh name is shown by its English one.
        name_cy = pl.col("name_cy") if "name_cy" in services.columns else pl.lit(None, dtype=pl.String)
        services = services.with_columns(
            pl.when(name_cy.is_null() | (name_cy == "")).then(pl.col("service")).otherwise(name_cy).alias("name_cy")
        )

    weights = tables.get("weights.csv")
    if weights is not None:
        empty_cells(weights, ("service", "indicator"), label("weights.csv"), problems)
        if services is not None:
            check_known(
                weights,
                "service",
                set(services["service"].to_list()),
                "unknown_service",
                label("weights.csv"),
                problems,
            )
            with_formula = set(weights["service"].to_list())
            for row, record in rows(services):
                if record["service"] not in with_formula:
                    problems.append(
                        Problem(
                            label("services.csv"),
                            "service_without_weights",
                            row,
                            "service",
                            {"value": record["service"]},
                        )
                    )
        if indicators is not None:
            check_known(
                weights,
                "indicator",
                set(indicators["indicator"].to_list()),
                "unknown_indicator",
                label("weights.csv"),
                problems,
            )
        check_duplicates(weights, ("service", "indicator"), label("weights.csv"), problems)
        weights = numeric_column(weights, "weight", label("weights.csv"), problems, "weight")
        # A service with an unreadable weight has that problem reported; sum the others.
        complete = weights.filter(pl.col("weight").is_null().not_().all().over("service"))
        problems += weight_sum_problems(complete, label("weights.csv"))

    grants = tables.get("grants.csv")
    if grants is not None:
        if councils is not None:
            check_known(grants, "ons_code", known_codes, "unknown_council", label("grants.csv"), problems)
        empty_cells(grants, ("ons_code",), label("grants.csv"), problems)
        for row, record in rows(grants):
            if not record["grant"]:
                problems.append(Problem(label("grants.csv"), "empty_cell", row, "grant"))
        check_duplicates(grants, ("grant", "ons_code"), label("grants.csv"), problems)
        grants = numeric_column(grants, "amount", label("grants.csv"), problems, "money")

    catalogue = tables.get("grant_catalogue.csv")
    if catalogue is not None:
        check_duplicates(catalogue, ("grant",), label("grant_catalogue.csv"), problems)

    if councils is not None and indicators is not None and weights is not None:
        known_indicators = set(indicators["indicator"].to_list())
        if settlement is not None:
            used = used_indicators(weights, settlement, label("weights.csv"), label("dataset.toml"))
        else:  # the settlement's own indicators wait for its problems to be fixed
            used = {}
            for service, indicator in weights.select("service", "indicator").iter_rows():
                used.setdefault(indicator, (label("weights.csv"), f"service {service}"))
        # Unknown indicators in weights.csv were reported above, with their rows.
        used = {k: v for k, v in used.items() if k in known_indicators or v[0] != label("weights.csv")}
        problems += indicator_problems(indicators, councils, used)
    raise_if(problems)
    # With no problems, every required file was read and checked.
    assert meta is not None and settlement is not None and base is not None
    assert councils is not None and indicators is not None and services is not None and weights is not None

    def final(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.drop(ROW, strict=False)

    def optional(frame: pl.DataFrame | None) -> pl.DataFrame | None:
        return None if frame is None else final(frame)

    # Base and fixed follow council order: the engine reads them by position.
    order = pl.DataFrame({"ons_code": codes})
    fixed_full = order.join(
        final(fixed) if fixed is not None else pl.DataFrame(schema={"ons_code": pl.String, "amount": pl.Float64}),
        on="ons_code",
        how="left",
        maintain_order="left",
    ).with_columns(pl.col("amount").fill_null(0.0))
    dataset = Dataset(
        name=meta["name"].strip(),
        year=meta["year"].strip(),
        title_en=meta.get("title_en", meta["name"]),
        title_cy=meta.get("title_cy", meta.get("title_en", meta["name"])),
        settlement=settlement,
        councils=final(councils),
        indicators=final(indicators),
        services=final(services),
        weights=final(weights),
        base=order.join(final(base), on="ons_code", how="left", maintain_order="left"),
        fixed=fixed_full,
        grants=optional(grants),
        provenance=provenance(prefix, meta, raw),
        grant_catalogue=optional(catalogue),
    )
    return dataset


def provenance(source: str, meta: dict, raw: dict[str, bytes]) -> dict:
    """Where the dataset came from: its own provenance table plus a content hash of its files."""
    files = {name: hashlib.sha256(data).hexdigest() for name, data in sorted(raw.items())}
    whole = hashlib.sha256()
    for name, digest in files.items():
        whole.update(f"{name}\0{digest}\n".encode())
    # The dataset's own [provenance] notes come first: the computed fields cannot be overridden.
    return {
        **meta.get("provenance", {}),
        "dataset": meta.get("name", ""),
        "source": source,
        "sha256": whole.hexdigest(),
        "files": files,
        "licence": meta.get("licence", ""),
        "description": meta.get("description", ""),
    }
