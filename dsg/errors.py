"""Input problems, collected in full before anything is computed or written.

A loader or a scenario check never stops at the first problem: it gathers every
:class:`Problem` it finds and raises one :class:`InputError` holding them all, so a
finance officer can fix a file in one pass.
"""

from __future__ import annotations

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
            place.append(self.key)
        return f"{', '.join(place)}: {message(self.code, lang, **self.params)}"


class InputError(Exception):
    """Bad input: every problem found, to be shown at once (CLI exit status 2)."""

    def __init__(self, problems: list[Problem]):
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
