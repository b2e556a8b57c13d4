"""Channel choices per notice kind: the defaults, a user turning e-mail off or SMS on, mandatory
channels that cannot be turned off (refused, nothing written), kinds of another audience refused,
and the preferences page (only one's own; bad input changes nothing)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.exceptions import DomainError
from core.models import AuditEvent
from core.outbox import preferences, services
from core.outbox.kinds import notice_kind
from core.outbox.models import Delivery, NoticePreference
from tests import factories

pytestmark = pytest.mark.django_db


def _channels(user, kind: str, key: str) -> list[str]:  # type: ignore[no-untyped-def]
    message = services.notify(recipient=user, kind=kind, dedupe_key=key, context={"reference": "SP-1", "item": "x"})
    return sorted(Delivery.objects.filter(message=message).values_list("channel", flat=True))


def test_defaults_choices_and_reachability():
    user = factories.UserFactory(phone="13800000000")
    assert _channels(user, "application.submitted", "a") == ["email", "site"]
    preferences.notice_preferences_set(
        user=user, enabled={("application.submitted", "email"): False, ("application.submitted", "sms"): True}
    )
    assert _channels(user, "application.submitted", "b") == ["site", "sms"]
    # a supplement notice goes by SMS by default; the user without a number gets none
    assert _channels(user, "application.supplement_requested", "c") == ["email", "site", "sms"]
    no_phone = factories.UserFactory(phone="")
    assert _channels(no_phone, "application.supplement_requested", "d") == ["email", "site"]
    assert AuditEvent.objects.filter(action="outbox.preferences_changed", object_id=str(user.pk)).count() == 1


def test_a_mandatory_channel_cannot_be_turned_off():
    user = factories.UserFactory()
    kind = notice_kind("application.accepted")
    assert not preferences.choosable(kind, "email") and not preferences.choosable(kind, "site")
    with pytest.raises(DomainError) as raised:
        preferences.notice_preferences_set(
            user=user, enabled={("application.submitted", "email"): False, ("application.accepted", "email"): False}
        )
    assert raised.value.code == "not_choosable"
    assert not NoticePreference.objects.exists()  # nothing written, not even the valid choice
    assert _channels(user, "application.accepted", "e") == ["email", "site"]


def test_kinds_of_another_audience_are_refused():
    clerk = factories.UserFactory(staff=True)
    with pytest.raises(DomainError):
        preferences.notice_preferences_set(user=clerk, enabled={("application.submitted", "sms"): True})
    preferences.notice_preferences_set(user=clerk, enabled={("task.waiting", "email"): True})
    assert _channels(clerk, "task.waiting", "f") == ["email", "site"]


def test_the_preferences_page(client):
    user = factories.UserFactory()
    client.force_login(user)
    page = client.get(reverse("inbox:preferences"))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="application.submitted:email" checked' in body
    assert 'name="application.accepted:email"' not in body  # mandatory: shown, not a choice
    assert 'name="task.waiting:' not in body  # a staff kind is not an enterprise user's choice
    # the form posts every choosable box; an unticked box turns the channel off
    posted = {"application.submitted:sms": "on"}
    response = client.post(reverse("inbox:preferences"), posted)
    assert response.status_code == 302
    assert set(NoticePreference.objects.filter(user=user).values_list("kind", "channel", "enabled")) >= {
        ("application.submitted", "sms", True),
        ("application.submitted", "email", False),
    }
    # unknown fields are ignored: the page only reads the boxes it shows
    assert client.post(reverse("inbox:preferences"), {"application.accepted:email": ""}).status_code == 302
    assert _channels(user, "application.accepted", "g") == ["email", "site"]
    assert client.put(reverse("inbox:preferences")).status_code == 405
