"""Print an enterprise's credit grade as of an instant, with its explanation.

    manage.py credit_grade 91210100MA0XK1234X [--as-of 2026-05-31 | 2026-05-31T12:00+08:00] [--json]

A date alone means the end of that day in Asia/Shanghai. An unknown code exits with status 1.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from credit.enterprises.uscc import InvalidUSCCError, uscc_validate
from credit.ledger import scoring
from credit.ledger import selectors as ledger_selectors


class Command(BaseCommand):
    help = "Print the credit grade of an enterprise (by unified social credit code) as of an instant."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("uscc")
        parser.add_argument("--as-of", default="", help="ISO 8601 date or time (default: now)")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            code = uscc_validate(options["uscc"])
        except InvalidUSCCError as exc:
            raise CommandError(f"not a valid unified social credit code: {options['uscc']} ({exc.code})") from None
        enterprise = ledger_selectors.enterprise_by_uscc(code)
        if enterprise is None:
            raise CommandError(f"no enterprise with unified social credit code {code}")
        if options["as_of"]:
            try:
                as_of = ledger_selectors.parse_as_of(options["as_of"])
            except ledger_selectors.AsOfError:
                raise CommandError(f"--as-of {options['as_of']!r} is not an ISO 8601 date or time") from None
        else:
            as_of = timezone.now()
        result = ledger_selectors.credit_grade_as_of(enterprise=enterprise, as_of=as_of)
        if options["json"]:
            data = result.as_dict()
            data["uscc"] = enterprise.uscc
            data["as_of"] = as_of.astimezone(scoring.SHANGHAI).isoformat()
            self.stdout.write(json.dumps(data, ensure_ascii=False, sort_keys=True))
            return
        self.stdout.write(f"{enterprise.name} ({enterprise.uscc})")
        self.stdout.write(
            f"as of {as_of.astimezone(scoring.SHANGHAI):%Y-%m-%d %H:%M:%S %Z}: grade {result.grade}, "
            f"score {result.score} (base {result.base}, rules {result.rule_version})"
        )
        if result.forced_by:
            self.stdout.write(f"forced to D by entries {', '.join(f'#{s}' for s in result.forced_by)}")
        self.stdout.write("contributing:")
        for c in result.contributing:
            self.stdout.write(
                f"  #{c.seq:<6} {c.kind_code:<24} {c.points:+4d}  occurred {c.occurred_at.astimezone(scoring.SHANGHAI):%Y-%m-%d}"
                f"  counts until {c.window_ends_at:%Y-%m-%d}"
            )
        self.stdout.write("left out:")
        for e in result.excluded:
            by = f" by #{e.by_seq}" if e.by_seq else ""
            self.stdout.write(f"  #{e.seq:<6} {e.kind_code:<24} {e.points:+4d}  {e.reason}{by}")
