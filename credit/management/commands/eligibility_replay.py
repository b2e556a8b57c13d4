"""Re-evaluate every stored eligibility decision, from its stored inputs and from the credit ledger
as of its instant, and compare with what was recorded and with the audit event written with it.

Exit status 0: every decision agrees. 1: at least one does not; each is listed (decision id,
enterprise, purpose, and what differs: a digest that no longer matches the stored inputs, a rule
snapshot that differs from the version it names or the policy's in-force period, a result that the
inputs no longer give, entries that differ from the ledger's, ledger entries recorded before the
instant that the decision did not consider (more than ``policy_selectors.UNSEEN_TOLERANCE``, 5 s,
before it), an audit event that is missing or says otherwise). Progress goes to stderr, so stdout
can be piped.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from credit.ledger.selectors import enterprise_by_uscc
from credit.management.progress import Progress
from credit.policies.selectors import eligibility_replay, replay_problem_text


class Command(BaseCommand):
    help = "Replay stored eligibility decisions. Exit 0 if all agree, 1 if any does not."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--enterprise", metavar="USCC", help="only this enterprise's decisions")
        parser.add_argument("--decision", type=int, action="append", metavar="ID", help="only these decisions")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        enterprise = None
        if options["enterprise"]:
            enterprise = enterprise_by_uscc(options["enterprise"])
            if enterprise is None:
                raise CommandError(f"no enterprise with code {options['enterprise']}")
        report = eligibility_replay(
            enterprise=enterprise,
            decision_ids=options["decision"],
            progress=Progress("replay", enabled=options["verbosity"] > 0),
        )
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "checked": report.checked,
                        "all_agree": report.all_agree,
                        "mismatches": [
                            {
                                "decision": m.decision_id,
                                "enterprise_id": m.enterprise_id,
                                "purpose": m.purpose,
                                "problems": [{"code": p.code, "detail": p.detail} for p in m.problems],
                            }
                            for m in report.mismatches
                        ],
                    }
                )
            )
        else:
            for mismatch in report.mismatches:
                problems = "; ".join(f"{p.code}: {replay_problem_text(p)}" for p in mismatch.problems)
                self.stdout.write(
                    f"MISMATCH decision #{mismatch.decision_id} "
                    f"(enterprise {mismatch.enterprise_id}, {mismatch.purpose}): {problems}"
                )
            if report.all_agree:
                self.stdout.write(f"OK: {report.checked} decision(s) replayed, all agree.")
            else:
                self.stdout.write(f"FAILED: {len(report.mismatches)} of {report.checked} decision(s) disagree.")
        if not report.all_agree:
            raise SystemExit(1)
