"""How the policy screens of every audience (portal, policy office, auditor) word a policy version
and a stored eligibility decision: the decision table and the benefits as sentences, reasons and
hints in the current language."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from credit.policies import rules as policies
from credit.policies import selectors as policy_selectors
from credit.policies.models import ConstructionProject, EligibilityDecision


def _percent(value: Any) -> str:
    number = policies.decimal_or_none(value)
    return "?" if number is None else format((number * 100).normalize(), "f")


def _yuan(value: Any) -> str:
    number = policies.decimal_or_none(value)
    return "?" if number is None else f"{number.quantize(policies.CENT):,}"


def condition_texts(conditions: Iterable[Mapping[str, Any]]) -> list[str]:
    """The decision table of a policy version as sentences."""
    texts = []
    for condition in conditions:
        spec = policies.CONDITIONS.get(str(condition.get("type")))
        if spec is None:
            texts.append(str(condition.get("type")))
            continue
        message = _(spec.text)
        values = dict(condition)
        if "kind_codes" in values:
            values["kinds"] = ", ".join(values["kind_codes"])
        try:
            texts.append(str(message) % values)
        except (KeyError, TypeError, ValueError):
            texts.append(str(message))
    return texts


def benefit_texts(kind: str, benefits: Mapping[str, Any]) -> list[str]:
    """The benefit parameters of a policy version as sentences."""
    texts: list[str] = []
    if "guarantee_cap" in benefits:
        texts.append(_("Guarantee of up to %(amount)s yuan") % {"amount": _yuan(benefits["guarantee_cap"])})
    if "fee_rate" in benefits:
        texts.append(_("Guarantee fee %(percent)s%% a year") % {"percent": _percent(benefits["fee_rate"])})
    if "subsidy_rate" in benefits:
        texts.append(
            _("%(percent)s%% of the loan interest subsidised") % {"percent": _percent(benefits["subsidy_rate"])}
        )
    if "max_amount" in benefits:
        texts.append(_("Subsidy of up to %(amount)s yuan") % {"amount": _yuan(benefits["max_amount"])})
    if "max_term_months" in benefits:
        texts.append(_("Term of up to %(months)s months") % {"months": benefits["max_term_months"]})
    if "instalments" in benefits:
        texts.append(_("Paid in up to %(n)s instalments") % {"n": benefits["instalments"]})
    if "deposit_rates" in benefits:
        rates = ", ".join(f"{grade} {_percent(rate)}%" for grade, rate in sorted(benefits["deposit_rates"].items()))
        texts.append(_("Wage deposit by credit grade (share of the wage-deposit base): %(rates)s") % {"rates": rates})
    if benefits.get("wage_arrears_full_within_months"):
        texts.append(
            _("Full deposit after wage arrears within the last %(months)s months")
            % {"months": benefits["wage_arrears_full_within_months"]}
        )
    if "item_codes" in benefits:
        texts.append(_("Approval items: %(codes)s") % {"codes": ", ".join(benefits["item_codes"])})
    privileges = benefits.get("privileges") or {}
    if privileges.get("promised_days_reduction"):
        texts.append(
            _("Promised time limit shortened by %(days)s working days")
            % {"days": privileges["promised_days_reduction"]}
        )
    if privileges.get("allow_missing_secondary"):
        texts.append(_("May be accepted with secondary materials missing"))
    return texts


@dataclass
class DecisionView:
    """A stored decision with its reasons and hints as text in the current language."""

    decision: EligibilityDecision
    reasons: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)

    @property
    def deposit_percent(self) -> str:
        rate = self.decision.deposit_rate
        return "" if rate is None else _percent(str(rate))


def decision_views(decisions: Sequence[EligibilityDecision | None]) -> dict[int, DecisionView]:
    """Reasons and hints of many decisions at once: two translations of all their issues together,
    so that a list costs the same number of queries (the entry-kind labels) whatever its length."""
    present = [d for d in decisions if d is not None]
    reasons = policy_selectors.issue_texts([issue for d in present for issue in d.reasons])
    hints = policy_selectors.issue_texts([issue for d in present for issue in d.hints], hints=True)
    views: dict[int, DecisionView] = {}
    r = h = 0
    for decision in present:
        views[decision.pk] = DecisionView(
            decision,
            reasons[r : r + len(decision.reasons)],
            hints[h : h + len(decision.hints)],
        )
        r += len(decision.reasons)
        h += len(decision.hints)
    return views


def project_context(project: ConstructionProject) -> dict[str, Any]:
    decisions = list(policy_selectors.project_deposit_decisions(project).select_related("policy_version__policy"))
    texts = decision_views(decisions)
    return {"project": project, "decisions": [texts[d.pk] for d in decisions]}
