"""Fill zh_Hans translations from a JSON file of {msgid: msgstr}, clearing fuzzy flags.

Usage: .venv/bin/python scripts/po_fill.py translations.json
Then compile: .venv/bin/python manage.py compilemessages -l zh_Hans (or msgfmt).
"""

import json
import sys

import polib

PO = "locale/zh_Hans/LC_MESSAGES/django.po"

with open(sys.argv[1], encoding="utf-8") as source:
    translations = json.load(source)
catalogue = polib.pofile(PO, wrapwidth=79)
filled = 0
for entry in catalogue:
    if entry.msgid in translations:
        entry.msgstr = translations[entry.msgid]
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
        entry.previous_msgid = None
        filled += 1
catalogue.save(PO)
missing = [e.msgid for e in catalogue.untranslated_entries() + catalogue.fuzzy_entries()]
print(f"filled {filled}; still missing {len(missing)}")
for msgid in missing:
    print("  ", repr(msgid))
