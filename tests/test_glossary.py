"""Every word a user sees exists in English and Welsh."""

import re
import string
from pathlib import Path

import pytest

import dsg
from dsg.formula.settle import ALLOCATION_COLUMNS
from dsg.i18n import LANGUAGES, MissingTerm, glossary, name_of

SOURCE = Path(dsg.__file__).parent


def entries():
    return [(section, key, entry) for section, table in glossary().items() for key, entry in table.items()]


@pytest.mark.parametrize("section, key, entry", entries(), ids=[f"{s}.{k}" for s, k, _ in entries()])
def test_both_languages_present_with_the_same_placeholders(section, key, entry):
    assert set(entry) == set(LANGUAGES)
    for lang in LANGUAGES:
        assert entry[lang].strip(), lang
    fields = {lang: {f for _, f, _, _ in string.Formatter().parse(entry[lang]) if f} for lang in LANGUAGES}
    assert fields["en"] == fields["cy"]


def test_every_code_and_term_the_code_uses_is_in_the_glossary():
    text = "\n".join(p.read_text("utf-8") for p in SOURCE.rglob("*.py"))
    codes = set(re.findall(r'Problem\(\s*[^,]+,\s*"([a-z_]+)"', text))
    codes |= set(re.findall(r'Problem\([^()]*?\(\)[^,]*,\s*"([a-z_]+)"', text))
    codes |= set(re.findall(r'check_known\([^)]*?"(unknown_[a-z_]+)"', text))
    # dsg.formula.names.unknown(file, kind, ...) says unknown_<kind>, or unknown_<kind>_suggest.
    for kind in re.findall(r'unknown\([^,()]+,\s*"([a-z]+)"', text):
        codes |= {f"unknown_{kind}", f"unknown_{kind}_suggest"}
    assert {"unknown_council", "unknown_service", "unknown_indicator", "missing_file"} <= codes
    missing = sorted(code for code in codes if code not in glossary()["messages"])
    assert not missing
    # Every literal look-up, of every kind, exists.
    used = set(re.findall(r'name_of\(\s*"([a-z]+)",\s*"([a-z_]+)"\s*[,)]', text))
    used |= set(re.findall(r"name_of\(\s*'([a-z]+)',\s*'([a-z_]+)'\s*[,)]", text))
    assert len(used) > 100
    assert not sorted((kind, key) for kind, key in used if key not in glossary().get(kind, {}))
    for column in ALLOCATION_COLUMNS:
        assert column in glossary()["columns"]
        assert column == "ons_code" or column in glossary()["screen"]


def test_council_names_exist_in_both_languages():
    councils = dsg.load_dataset().councils
    assert councils["name_en"].null_count() == 0 and councils["name_cy"].null_count() == 0
    assert (councils["name_cy"] != councils["name_en"]).sum() >= 12


def test_a_missing_term_is_an_error_not_the_key():
    with pytest.raises(MissingTerm):
        name_of("words", "no_such_word", "cy")
    assert name_of("words", "wales", "cy") == "Cymru"
