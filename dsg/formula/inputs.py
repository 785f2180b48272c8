"""Reading input files safely: the one way dsg reads a dataset file or a scenario.

An input path can be anything a user or a script points at: a folder, a named pipe (FIFO)
that would block forever, a device such as ``/dev/zero`` that never ends, a symbolic link to
nothing, a file too big to hold in memory. :func:`read_input` turns each of these into a
:class:`Problem` with the file named and what was expected, so that it is listed with every
other problem, and never hangs, never reads without end and never mistakes a broken file for
an absent one: only a name that does not exist at all is "no file".

Limits (documented in the user guide, "Errors"):

- a dataset CSV file: at most :data:`CSV_LIMIT` (64 MiB; the embedded dataset's largest file
  is under 50 KiB);
- ``dataset.toml`` and a scenario file: at most :data:`TOML_LIMIT` (1 MiB);
- TOML tables and lists nested at most :data:`MAX_DEPTH` (32) levels deep.

No polars here: a scenario is read and refused before the engine loads.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from importlib.resources.abc import Traversable
from pathlib import Path

from dsg.errors import Problem
from dsg.formula.names import suggestions

MIB = 1024 * 1024
CSV_LIMIT = 64 * MIB
TOML_LIMIT = 1 * MIB
MAX_DEPTH = 32

# Opening never blocks (a FIFO swapped in after the check opens at once, then is refused);
# a regular file ignores the flag. Neither flag exists on every system.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def size_text(limit: int) -> str:
    """A limit as users read it: ``64 MiB``."""
    return f"{limit // MIB} MiB" if limit % MIB == 0 else f"{limit} bytes"


def not_regular(mode: int) -> str:
    """The problem code for a path that is not a regular file, by what it is instead."""
    if stat.S_ISDIR(mode):
        return "input_is_folder"
    if stat.S_ISFIFO(mode):
        return "input_is_pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "input_is_device"
    return "input_is_special"


def nearest_names(path: Path) -> list[str]:
    """The names in ``path``'s folder nearest its own, for "did you mean": among those with
    the same extension, by the part before it (so that every ``.toml`` is not near every
    other); none if the folder cannot be listed."""
    try:
        names = [entry.name for entry in os.scandir(path.parent or Path("."))]
    except OSError:
        return []
    suffix = path.suffix.lower()
    alike: dict[str, tuple[str, ...]] = {
        name: (Path(name).stem,) for name in names if not name.startswith(".") and Path(name).suffix.lower() == suffix
    }
    return suggestions(path.stem, alike)


def missing(path: Path, label: str, code: str) -> Problem:
    """A file or folder that is not there, with the nearest names beside it."""
    near = nearest_names(path)
    if near:
        return Problem(label, f"{code}_suggest", params={"suggestions": " / ".join(near)})
    return Problem(label, code)


def read_input(
    entry: Path | Traversable,
    label: str,
    problems: list[Problem],
    *,
    limit: int,
    kind: str,
    required: bool = True,
) -> bytes | None:
    """The bytes of an input file, or ``None`` with the reason added to ``problems``.

    ``kind`` names the format expected ("CSV", "TOML") in messages. A name that does not
    exist is a problem only when ``required``; anything else standing there that cannot be
    read as a regular file of at most ``limit`` bytes is always a problem. Symbolic links are
    followed; one that leads nowhere is a problem.
    """
    params = {"format": kind}
    if not isinstance(entry, Path):
        # The embedded dataset, read through importlib.resources (perhaps from a zip): its
        # files are dsg's own, so only absence and size are checked.
        if not entry.is_file():
            if required:
                problems.append(Problem(label, "missing_file"))
            return None
        try:
            with entry.open("rb") as stream:
                data = stream.read(limit + 1)
        except OSError as exc:
            problems.append(Problem(label, "unreadable_file", params={"reason": exc.strerror or str(exc)}))
            return None
        if len(data) > limit:
            problems.append(Problem(label, "file_too_large", params={**params, "limit": size_text(limit)}))
            return None
        return data
    try:
        info = os.stat(entry)  # follows symbolic links
    except FileNotFoundError:
        if os.path.lexists(entry):  # a link whose target is missing
            try:
                target = os.readlink(entry)
            except OSError:
                target = "?"
            problems.append(Problem(label, "dangling_link", params={**params, "target": target}))
        elif required:
            problems.append(missing(entry, label, "missing_file"))
        return None
    except OSError as exc:  # permissions on a folder above, a loop of links, a name too long
        problems.append(Problem(label, "unreadable_file", params={"reason": exc.strerror or str(exc)}))
        return None
    if not stat.S_ISREG(info.st_mode):  # never opened: a FIFO would block, a device never ends
        problems.append(Problem(label, not_regular(info.st_mode), params=params))
        return None
    too_large = Problem(label, "file_too_large", params={**params, "limit": size_text(limit)})
    if info.st_size > limit:
        problems.append(too_large)
        return None
    try:
        descriptor = os.open(entry, _OPEN_FLAGS)
        with os.fdopen(descriptor, "rb") as stream:
            # The path may have changed between the check and the open: check what was opened.
            mode = os.fstat(stream.fileno()).st_mode
            if not stat.S_ISREG(mode):
                problems.append(Problem(label, not_regular(mode), params=params))
                return None
            data = stream.read(limit + 1)  # a file still growing stops here
    except OSError as exc:  # permissions, EIO
        problems.append(Problem(label, "unreadable_file", params={"reason": exc.strerror or str(exc)}))
        return None
    if len(data) > limit:
        problems.append(too_large)
        return None
    return data


def depth_of(value: object, bound: int) -> int:
    """How deep tables and lists nest in ``value`` (a scalar is 0), counting no further than
    ``bound + 1``; iterative, so no structure is too deep to measure."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > bound:
            return deepest
        stack.extend((child, depth) for child in children)
    return deepest


# What a scan of TOML text skips (strings, comments) or counts (dots, brackets, separators).
_TOML_TOKENS = re.compile(
    # A string runs to its closing quote or, unclosed (then the file is not TOML, as tomllib
    # reports), to the end of its line or of the text: every opening matches, the scan is linear.
    r'"""(?:\\[\s\S]?|[^\\])*?(?:"""|\Z)'  # multi-line basic string
    r"|'''[\s\S]*?(?:'''|\Z)"  # multi-line literal string
    r'|"(?:\\.|[^"\\\n])*"?'  # basic string
    r"|'[^'\n]*'?"  # literal string
    r"|#[^\n]*"  # comment
    r"|[.\[\]{}=,\n]"
)


def nested_too_deep(text: str, bound: int = MAX_DEPTH) -> bool:
    """Whether TOML text surely nests deeper than ``bound``, found in one linear scan before
    parsing: a dotted key of more than ``bound`` parts (tomllib takes time growing faster than
    the key's length: hours for a 1 MiB key) or brackets open ``bound`` deep (tomllib recurses
    into them). Outside strings and comments a value holds at most one dot (``1.5``), so a
    run of ``bound`` dots is a dotted key of ``bound + 1`` levels under the top table."""
    dots = brackets = 0
    for match in _TOML_TOKENS.finditer(text):
        token = match.group()
        if token == ".":
            dots += 1
            if dots >= bound:
                return True
        elif token in ("[", "{"):
            brackets, dots = brackets + 1, 0
            if brackets >= bound:
                return True
        elif token in ("]", "}"):
            brackets, dots = max(brackets - 1, 0), 0
        elif token in ("=", ",", "\n"):
            dots = 0
    return False


def parse_toml(data: bytes, label: str, problems: list[Problem]) -> dict | None:
    """A TOML file's table, or ``None`` with the reason added to ``problems``.

    A UTF-8 byte-order mark, as Notepad may add, is accepted. Tables and lists nested more
    than :data:`MAX_DEPTH` levels (the top table is level 1) are refused.
    """
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        problems.append(Problem(label, "not_utf8_text"))
        return None
    if nested_too_deep(text):
        problems.append(Problem(label, "too_deep", params={"limit": MAX_DEPTH}))
        return None
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.append(Problem(label, "bad_toml", params={"reason": str(exc)}))
        return None
    except RecursionError:  # tomllib recurses into arrays and inline tables (a safety net)
        problems.append(Problem(label, "too_deep", params={"limit": MAX_DEPTH}))
        return None
    if depth_of(table, MAX_DEPTH) > MAX_DEPTH:
        problems.append(Problem(label, "too_deep", params={"limit": MAX_DEPTH}))
        return None
    return table
