"""Writing files safely: paths checked before any work, folders made as needed, and every
file written to a temporary name that replaces the real one only when it is complete."""

from __future__ import annotations

import os
import re
import tempfile
import zlib
from contextlib import contextmanager
from pathlib import Path

from dsg.errors import InputError, Problem

TABLE_FORMATS = (".csv", ".parquet", ".xlsx")
# The files a grant report writes into its folder (checked before any work, by name).
GRANT_TABLES = ("dehypothecation", "consolidation", "multiyear", "hypothecation")
GRANT_REPORT_FILES = (*(f"{name}.csv" for name in GRANT_TABLES), "grants.xlsx")
CHART_FORMATS = (".png", ".svg", ".pdf")


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
    sidecar = [sidecar_path(target).name] if target.suffix.lower() == ".csv" else []
    too_long = length_problems(target, sidecar)
    if too_long:
        problems += too_long
    elif target.is_dir():
        problems.append(Problem(str(path), "is_a_folder"))
    else:
        problems += folder_problems(target.parent, str(path))
    return problems


def length_problems(path: Path, beside=()) -> list[Problem]:
    """A name on ``path`` (or among the files written ``beside`` it) over NAME_MAX bytes, or
    the whole path over PATH_MAX: found before any work, not when the file is written."""
    names = [*path.parts, *beside]
    longest = max(len(name.encode()) for name in names)
    if len(os.path.abspath(path).encode()) + max((len(n.encode()) + 1 for n in beside), default=0) >= PATH_MAX:
        return [Problem(str(path), "path_too_long", params={"limit": PATH_MAX})]
    if longest > NAME_MAX:
        return [Problem(str(path), "name_too_long", params={"length": longest, "limit": NAME_MAX})]
    return []


def files_problems(folder: str | Path, names) -> list[Problem]:
    """Why files of these ``names`` could not be written into ``folder`` (made if missing)."""
    target = Path(folder)
    too_long = length_problems(target, names)
    if too_long:
        return too_long
    problems = folder_problems(target, str(folder))
    problems += [Problem(str(target / name), "is_a_folder") for name in names if (target / name).is_dir()]
    return problems


def overwrite_problems(outputs, inputs) -> list[Problem]:
    """An output that would replace an input: a scenario file, or anything inside a dataset
    folder (the next run would read it as part of the dataset)."""
    problems = []
    for output in outputs:
        target = Path(output).resolve()
        for source in inputs:
            given = Path(source).resolve()
            if target == given or (given.is_dir() and given in target.parents):
                problems.append(Problem(str(output), "would_overwrite_input", params={"input": str(source)}))
    return problems


def chart_path_problems(path: str | Path) -> list[Problem]:
    return output_path_problems(path, CHART_FORMATS)


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# A temporary file is named ``.NAME.dsg-HOST-PID-RANDOM.part`` beside its target NAME: hidden,
# recognisably dsg's, and carrying the writing machine (a hash of its name) and process id, so
# that a later write of the same target can remove what a killed run left behind without
# touching the file of a run still going, here or on another machine sharing the folder.
TEMPORARY_MARK = "dsg"
# The targets this process is writing, so that an interrupted command can sweep its own.
_targets: set[Path] = set()


def this_host() -> str:
    return f"{zlib.crc32(os.uname().nodename.encode()):08x}" if os.name == "posix" else "00000000"


# Most file systems allow names of 255 bytes and paths of 4,096; mkstemp adds 8 random characters.
NAME_MAX, PATH_MAX = 255, 4096


def temporary_prefix(path: Path) -> str:
    """The start of a temporary file's name; the target's name is cut short if need be, so
    that a target whose name is near the limit can still be written."""
    mark = f".{TEMPORARY_MARK}-{this_host()}-{os.getpid()}-"
    room = NAME_MAX - len(mark) - len(".") - 8 - len(".part")
    return f".{path.name.encode()[:room].decode(errors='ignore')}{mark}"


def temporaries_of(path: Path) -> list[tuple[Path, int]]:
    """dsg's temporary files in ``path``'s folder made on this machine, with the id of the
    process that made each."""
    # Any target's in the folder: a killed run's leftovers go at the next write there.
    pattern = re.compile(rf"\..+\.{TEMPORARY_MARK}-{this_host()}-([0-9]+)-[A-Za-z0-9_]+\.part")
    found = []
    try:
        with os.scandir(path.parent) as entries:
            for entry in entries:
                match = pattern.fullmatch(entry.name)
                if match and entry.is_file(follow_symlinks=False):
                    found.append((Path(entry.path), int(match.group(1))))
    except OSError:  # a folder that cannot be listed has nothing we could remove either
        pass
    return found


def process_is_gone(pid: int) -> bool:
    """True only when no process ``pid`` exists (one we may not signal is alive)."""
    if pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):  # another user's live process; no process id at all
        return False
    return False


def remove_temporaries(path: Path, own: bool = False) -> None:
    """Remove the temporary files of ``path`` left by processes that no longer run (a killed
    run), or with ``own`` this process's. Another file, or a live run's, is never touched."""
    if os.name != "posix":  # os.kill(pid, 0) would end the process elsewhere
        return
    for temporary, pid in temporaries_of(path):
        if (pid == os.getpid()) if own else process_is_gone(pid):
            try:
                temporary.unlink()
            except OSError:
                pass


def remove_own_temporaries() -> None:
    """After an interrupt: the temporary files this process made that its clean-up missed."""
    for path in list(_targets):
        remove_temporaries(path, own=True)


def make_parents(path: Path) -> list[Path]:
    """Make the folders missing above ``path`` (like mkdir -p); those made, deepest first, so
    that a failed write can take them away again (:func:`remove_made`)."""
    made = []
    for folder in (path.parent, *path.parent.parents):
        if folder.exists():
            break
        made.append(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    return made


def remove_made(made: list[Path]) -> None:
    """Take away folders :func:`make_parents` made, deepest first, each only if empty: another
    file of a set may stand there."""
    for folder in made:
        try:
            folder.rmdir()
        except OSError:
            break


@contextmanager
def atomic_path(path: Path):
    """A temporary path beside ``path`` that replaces it only if writing succeeds."""
    if path.is_dir():  # found now, before any of a set of files has replaced anything
        raise IsADirectoryError(21, "is a folder", str(path))
    made = make_parents(path)
    remove_temporaries(path)
    _targets.add(path)
    written = False
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=temporary_prefix(path), suffix=".part", dir=path.parent)
        os.close(descriptor)
        try:
            yield Path(temporary)
            # mkstemp makes the file private (0600); give it the mode a plainly created file
            # would have, or the mode of the file it replaces, so colleagues can open it.
            os.chmod(temporary, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~current_umask())
            os.replace(temporary, path)
            written = True
        finally:
            if os.path.exists(temporary):
                os.remove(temporary)
    finally:
        _targets.discard(path)
        if not written:
            remove_made(made)


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
    """The Frictionless Data Package beside a CSV: ``name.datapackage.json``."""
    return target.with_name(f"{target.stem}.datapackage.json")


def dataset_folder_problems(path: str | Path, inputs=()) -> list[Problem]:
    """Why a dataset could not be written as folder ``path``: it must be new, empty, or hold a
    dataset already (which is then replaced whole), so that no other file is lost; and none
    of the command's ``inputs`` may be in it."""
    target = Path(path)
    too_long = length_problems(target, ("dataset.toml",))
    if too_long:
        return too_long
    if target.exists() and not target.is_dir():
        return [Problem(str(path), "not_a_folder")]
    if target.is_dir() and any(target.iterdir()) and not (target / "dataset.toml").is_file():
        return [Problem(str(path), "folder_not_dataset")]
    # The folder is replaced whole: no input may stand in it, or be it, or hold it.
    whole = target.resolve()
    for source in inputs:
        given = Path(source).resolve()
        if given == whole or whole in given.parents or given in whole.parents:
            return [Problem(str(path), "would_overwrite_input", params={"input": str(source)})]
    return folder_problems(target.parent, str(path))


@contextmanager
def atomic_folder(path: Path):
    """A temporary folder beside ``path`` that takes its place only when complete. A folder
    standing there is replaced whole, so that no file of an older dataset lingers in it."""
    import shutil

    made = make_parents(path)
    temporary = Path(tempfile.mkdtemp(prefix=temporary_prefix(path), suffix=".part", dir=path.parent))
    written = False
    try:
        yield temporary
        os.chmod(temporary, 0o777 & ~current_umask())
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=temporary_prefix(path), suffix=".part", dir=path.parent))
            os.replace(path, old / path.name)
            os.replace(temporary, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(temporary, path)
        written = True
    finally:
        if temporary.exists():
            shutil.rmtree(temporary, ignore_errors=True)
        if not written:
            remove_made(made)
