"""Input problems, collected in full before anything is computed or written.

A loader or a scenario check never stops at the first problem: it gathers every
:class:`Problem` it finds and raises one :class:`InputError` holding them all, so a
finance officer can fix a file in one pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from dsg.i18n import message, name_of


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is and what was expected.

    ``row`` is the spreadsheet row (the header is row 1), ``key`` a column or a TOML
    key; ``code`` names a message in the glossary and ``params`` fill it.
    """

    file: str
    code: str
    row: int | None = None
    key: str | None = None
    params: dict = field(default_factory=dict)

    def render(self, lang: str = "en") -> str:
        place = [self.file]
        if self.row is not None:
            place.append(f"{name_of('words', 'row', lang)} {self.row}")
        if self.key is not None:
            place.append(shortened(self.key, lang))
        params = {name: shortened(value, lang) if name in QUOTED else value for name, value in self.params.items()}
        return f"{', '.join(place)}: {message(self.code, lang, **params)}"


# What the user wrote, quoted in a problem, is cut to LONGEST_QUOTED characters: a 60 MiB cell
# is a mistake to point at, not to print.
QUOTED = ("value", "found", "first", "council", "indicator", "service", "grant", "line")
LONGEST_QUOTED = 120


def shortened(value, lang: str):
    """``value``, or its start and its length when it is text too long to quote whole."""
    if isinstance(value, str) and len(value) > LONGEST_QUOTED:
        return f"{value[:LONGEST_QUOTED]}… ({len(value):,} {name_of('words', 'characters', lang)})"
    return value


# A file with a million bad rows holds a few kinds of mistake: the first problems of each
# kind (file and message) are listed and the rest counted, so that neither memory nor the
# screen is flooded.
SAME_KIND_SHOWN = 20


class Problems(list):
    """A list of problems that keeps at most :data:`SAME_KIND_SHOWN` of one kind and counts
    the rest; :class:`InputError` adds a line saying how many more there were.

    ``append`` and ``extend`` cap, as the checks that go row by row use them; ``+=`` is the
    built-in list's and adds everything, for merging the short lists of other checks."""

    def __init__(self, problems=()):
        super().__init__()
        self.shown: dict[tuple[str, str], int] = {}
        self.hidden: dict[tuple[str, str], int] = {}
        self.extend(problems)

    def append(self, problem: Problem) -> None:
        kind = (problem.file, problem.code)
        if self.shown.get(kind, 0) < SAME_KIND_SHOWN:
            self.shown[kind] = self.shown.get(kind, 0) + 1
            super().append(problem)
        else:
            self.hidden[kind] = self.hidden.get(kind, 0) + 1

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.append(problem)

    def complete(self) -> list[Problem]:
        """The problems kept, and one line for each kind that had more."""
        return list(self) + [
            Problem(file, "more_of_this_kind", params={"count": f"{count:,}", "shown": SAME_KIND_SHOWN})
            for (file, _), count in self.hidden.items()
        ]


class InputError(Exception):
    """Bad input: every problem found, to be shown at once (CLI exit status 2)."""

    def __init__(self, problems: list[Problem]):
        if isinstance(problems, Problems):
            problems = problems.complete()
        # The same problem found by two checks is listed once.
        self.problems = list({(p.file, p.code, p.row, p.key, repr(p.params)): p for p in reversed(problems)}.values())[
            ::-1
        ]
        super().__init__(self.render("en"))

    def render(self, lang: str = "en") -> str:
        return "\n".join(p.render(lang) for p in self.problems)


def raise_if(problems: list[Problem]) -> None:
    if problems:
        raise InputError(problems)
