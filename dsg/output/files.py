"""Writing files safely: paths checked before any work, folders made as needed, and every
file written to a temporary name that replaces the real one only when it is complete."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from dsg.errors import InputError, Problem

TABLE_FORMATS = (".csv", ".parquet", ".xlsx")
# The files a grant report writes into its folder (checked before any work, by name).
GRANT_TABLES = ("dehypothecation", "consolidation", "multiyear", "hypothecation")
GRANT_REPORT_FILES = (*(f"{name}.csv" for name in GRANT_TABLES), "grants.xlsx")
CHART_FORMATS = (".png",)


def existing_ancestor(folder: Path) -> Path:
    """The nearest folder (``folder`` itself or above it) that exists already."""
    folder = folder if str(folder) else Path(".")
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def folder_problems(folder: Path, label: str) -> list[Problem]:
    """Why files could not be written into ``folder`` (which is made if missing, like mkdir -p)."""
    if folder.exists() and not folder.is_dir():
        return [Problem(label, "not_a_folder")]
    found = existing_ancestor(folder)
    if not found.is_dir():
        return [Problem(label, "no_such_folder", params={"folder": str(found)})]
    if not os.access(found, os.W_OK | os.X_OK):
        return [Problem(label, "cannot_write", params={"reason": f"{found}: permission denied"})]
    return []


def output_path_problems(path: str | Path, formats: tuple[str, ...] = TABLE_FORMATS) -> list[Problem]:
    """Why ``path`` could not be written in one of ``formats`` (empty when it can), checked
    before any work is done. A folder that does not exist yet is made when writing."""
    target = Path(path)
    problems = []
    if target.suffix.lower() not in formats:
        problems.append(
            Problem(str(path), "unknown_extension", params={"value": target.name, "allowed": ", ".join(formats)})
        )
    if target.is_dir():
        problems.append(Problem(str(path), "is_a_folder"))
    else:
        problems += folder_problems(target.parent, str(path))
    return problems


def files_problems(folder: str | Path, names) -> list[Problem]:
    """Why files of these ``names`` could not be written into ``folder`` (made if missing)."""
    target = Path(folder)
    problems = folder_problems(target, str(folder))
    problems += [Problem(str(target / name), "is_a_folder") for name in names if (target / name).is_dir()]
    return problems


def chart_path_problems(path: str | Path) -> list[Problem]:
    return output_path_problems(path, CHART_FORMATS)


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: Path):
    """A temporary path beside ``path`` that replaces it only if writing succeeds."""
    if path.is_dir():  # found now, before any of a set of files has replaced anything
        raise IsADirectoryError(21, "is a folder", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(descriptor)
    try:
        yield Path(temporary)
        # mkstemp makes the file private (0600); give it the mode a plainly created file
        # would have, or the mode of the file it replaces, so colleagues can open it.
        os.chmod(temporary, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~current_umask())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


@contextmanager
def writing(target: Path):
    """:func:`atomic_path`, with a failure reported as an input problem.

    A full disk or a file held open by Excel is said plainly; the old file is untouched.
    """
    import polars as pl

    try:
        with atomic_path(target) as temporary:
            yield temporary
    except (OSError, pl.exceptions.ComputeError) as exc:  # polars reports a full disk this way
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError([Problem(str(target), "cannot_write", params={"reason": reason})]) from None


def sidecar_path(target: Path) -> Path:
    """The provenance file beside a CSV: ``name.provenance.json``."""
    return target.with_name(f"{target.stem}.provenance.json")
