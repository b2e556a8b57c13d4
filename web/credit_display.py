"""How the credit pages of every audience word a grade: the explanation and its chart."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from credit.ledger import charts, scoring
from credit.ledger import selectors as ledger_selectors
from credit.ledger.models import LedgerEntry
from credit.models import Enterprise


def reason_label(code: str) -> str:
    labels = {
        scoring.EXPIRED: _("publication window over"),
        scoring.REPAIRED: _("repaired"),
        scoring.REVERSED: _("reversed"),
        scoring.NOT_YET_OCCURRED: _("dated after this instant"),
        scoring.CORRECTION: _("repair or reversal entry"),
    }
    return str(labels.get(code, code))


def explanation(result: scoring.GradeResult, entries: dict[int, LedgerEntry], hidden: set[int]) -> dict[str, Any]:
    contributing = [{"c": c, "entry": entries.get(c.seq)} for c in result.contributing]
    excluded = [
        {"e": e, "entry": entries.get(e.seq), "reason": reason_label(e.reason)}
        for e in result.excluded
        if e.seq not in hidden
    ]
    return {"result": result, "contributing": contributing, "excluded": excluded}


def chart(enterprise: Enterprise, facts: list[scoring.EntryFact]) -> Any:
    series = scoring.score_series(facts, ledger_selectors.month_ends(months=36))
    return charts.score_chart(series, title=_("Credit score over the last three years"))
