"""The committed catalogue is complete and the compiled .mo matches the .po."""

import gettext
from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parents[1] / "locale"
PO = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.mo"


def test_every_message_is_translated_and_none_is_fuzzy():
    catalogue = polib.pofile(str(PO))
    assert catalogue.untranslated_entries() == []
    assert catalogue.fuzzy_entries() == []


def test_compiled_catalogue_matches_source():
    catalogue = polib.pofile(str(PO))
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)

    def compiled_text(entry: polib.POEntry) -> str:
        if entry.msgctxt:
            return compiled.pgettext(entry.msgctxt, entry.msgid)
        return compiled.gettext(entry.msgid)

    stale = [
        entry.msgid
        for entry in catalogue.translated_entries()
        if not entry.obsolete and compiled_text(entry) != entry.msgstr and not entry.msgid_plural
    ]
    assert stale == [], "run: python manage.py compilemessages (or msgfmt) and commit django.mo"


def test_placeholders_survive_translation():
    import re

    pattern = re.compile(r"%\(\w+\)[sd]|%[sd]")
    catalogue = polib.pofile(str(PO))
    broken = [
        entry.msgid
        for entry in catalogue.translated_entries()
        if sorted(set(pattern.findall(entry.msgid_plural or entry.msgid)))
        != sorted(set(pattern.findall(entry.msgstr_plural[0] if entry.msgid_plural else entry.msgstr)))
    ]
    assert broken == []
