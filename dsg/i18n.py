"""English and Welsh wording for everything a user reads.

All user-visible words live in one glossary file (``dsg/data/glossary.toml``) so that
a test can check that every key exists in both languages, and a translator has one
place to look.
"""

from __future__ import annotations

import os
import tomllib
from functools import cache
from importlib import resources

LANGUAGES = ("en", "cy")


@cache
def glossary() -> dict:
    """The glossary, as a nested dict ``section -> key -> {en, cy}``."""
    text = resources.files("dsg.data").joinpath("glossary.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def default_language() -> str:
    """``DSG_LANG`` if it names a known language, else English."""
    lang = os.environ.get("DSG_LANG", "en").strip().lower()
    return lang if lang in LANGUAGES else "en"


def term(section: str, key: str, lang: str) -> str:
    """One glossary entry in ``lang``; unknown keys come back as themselves."""
    entry = glossary().get(section, {}).get(key)
    if entry is None:
        return key
    return entry[lang]


def message(code: str, lang: str, **params) -> str:
    """A message template from the glossary, filled with ``params``."""
    return term("messages", code, lang).format(**params)


def column_label(column: str, lang: str) -> str:
    return term("columns", column, lang)
