"""English and Welsh wording for everything a user reads: the one language look-up.

All user-visible words live in one glossary file (``dsg/data/glossary.toml``) so that
a test can check that every key exists in both languages, and a translator has one
place to look. A key missing from the glossary is a programming error, raised at once,
never shown to a user as the key itself.
"""

from __future__ import annotations

import os
import tomllib
from functools import cache
from importlib import resources

LANGUAGES = ("en", "cy")
# The glossary's sections: kinds of words.
KINDS = ("columns", "causes", "steps", "screen", "words", "indicators", "statuses", "report", "messages")


class MissingTerm(LookupError):
    """A word the code asks for that the glossary lacks."""


@cache
def glossary() -> dict:
    """The glossary, as a nested dict ``kind -> key -> {en, cy}``."""
    text = resources.files("dsg.data").joinpath("glossary.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def default_language() -> str:
    """``DSG_LANG`` if it names a known language (in any case), else English. A ``DSG_LANG``
    that names another language is refused by the commands (:func:`unsupported_language`)."""
    lang = os.environ.get("DSG_LANG", "").strip().lower()
    return lang if lang in LANGUAGES else "en"


def unsupported_language() -> str | None:
    """``DSG_LANG`` as set, when it is set to something other than a supported language."""
    lang = os.environ.get("DSG_LANG", "").strip()
    return lang if lang and lang.lower() not in LANGUAGES else None


def name_of(kind: str, key: str, lang: str, **params) -> str:
    """The glossary's ``kind.key`` in ``lang``, with any ``{placeholders}`` filled from ``params``."""
    try:
        text = glossary()[kind][key][lang]
    except KeyError:
        raise MissingTerm(f"glossary has no {kind}.{key} in {lang!r}") from None
    return text.format(**params) if params else text


def has_name(kind: str, key: str) -> bool:
    return key in glossary().get(kind, {})


def message(code: str, lang: str, **params) -> str:
    """A problem or warning message, filled with ``params``."""
    return name_of("messages", code, lang).format(**params)


def indicator_label(indicator: str, lang: str) -> str:
    """An indicator's label in ``lang``; an indicator the glossary does not know (one a user's
    dataset brings, such as an imported IBA line) is shown by its own name."""
    return name_of("indicators", indicator, lang) if has_name("indicators", indicator) else indicator


def status_label(status: str | None, lang: str) -> str:
    """A dataset's status word (published, illustrative, ...) in ``lang``; one the glossary
    does not know is shown as written."""
    if not status:
        return ""
    key = "_".join(status.lower().split())
    return name_of("statuses", key, lang) if has_name("statuses", key) else status
