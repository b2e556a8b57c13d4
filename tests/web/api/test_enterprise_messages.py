"""The enterprise user's in-site messages on the API: the list (cursor, unread filter), one message
(reading it writes nothing), marking it read; only the recipient's, and a token narrowed to one
enterprise leaves out the messages about another's objects."""

from __future__ import annotations

import pytest

from core.outbox.models import SiteMessage
from tests import factories
from tests.web.api.conftest import bearer, site_message, token_for
from tests.workflows.conftest import new_draft

pytestmark = pytest.mark.django_db

MESSAGES = "/api/v1/enterprise/messages/"


@pytest.fixture
def client(tenants):
    return bearer(token_for(tenants.owner, "write"))


def test_list_newest_first_with_the_unread_filter(client, tenants):
    old = site_message(tenants.owner, title="旧", read=True)
    new = site_message(tenants.owner, title="新", obj=tenants.enterprise_a)
    site_message(tenants.peer, title="别人的")

    every = client.get(MESSAGES)
    unread = client.get(MESSAGES, {"unread": "true"})
    bad = client.get(MESSAGES, {"unread": "1"})

    assert every.status_code == 200
    assert [row["id"] for row in every.json()["results"]] == [new.pk, old.pk]
    assert [row["id"] for row in unread.json()["results"]] == [new.pk]
    row = unread.json()["results"][0]
    assert row["title"] == "新" and row["read_at"] is None
    assert row["link"] == f"/portal/enterprises/{tenants.enterprise_a.pk}/credit/"
    assert bad.status_code == 400 and "unread" in bad.json()["fields"]


def test_the_list_pages_by_cursor(client, tenants):
    made = [site_message(tenants.owner, title=f"第{i}条") for i in range(3)]

    first = client.get(MESSAGES, {"page_size": 2}).json()
    second = client.get(first["next"]).json()

    assert [row["id"] for row in first["results"] + second["results"]] == [m.pk for m in reversed(made)]


def test_reading_one_writes_nothing_and_marking_it_read_does(client, tenants):
    message = site_message(tenants.owner)

    seen = client.get(f"{MESSAGES}{message.pk}/")
    message.refresh_from_db()
    assert seen.status_code == 200 and seen.json()["body"] == message.body and message.read_at is None

    marked = client.post(f"{MESSAGES}{message.pk}/read/")
    message.refresh_from_db()
    assert marked.status_code == 200 and message.read_at is not None
    assert marked.json()["read_at"] is not None
    first_read = message.read_at
    assert client.post(f"{MESSAGES}{message.pk}/read/").status_code == 200
    message.refresh_from_db()
    assert message.read_at == first_read  # the first reading counts


def test_someone_elses_message_is_a_404_and_stays_unread(client, tenants):
    theirs = site_message(tenants.peer)

    for response in (client.get(f"{MESSAGES}{theirs.pk}/"), client.post(f"{MESSAGES}{theirs.pk}/read/")):
        assert response.status_code == 404 and set(response.json()) == {"code", "message"}
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_a_read_only_token_may_not_mark_read(tenants):
    message = site_message(tenants.owner)

    response = bearer(token_for(tenants.owner, "read")).post(f"{MESSAGES}{message.pk}/read/")

    assert response.status_code == 403 and response.json()["code"] == "token_scope_insufficient"
    assert SiteMessage.objects.get(pk=message.pk).read_at is None


def test_a_narrowed_token_leaves_out_the_other_enterprises_messages(tenants):
    second = factories.MembershipFactory(user=tenants.owner, confirmed=True).enterprise
    about_a = site_message(tenants.owner, obj=new_draft(tenants.owner, tenants.enterprise_a, tenants.item))
    about_second = site_message(tenants.owner, obj=new_draft(tenants.owner, second, tenants.item))
    credit_of_second = site_message(tenants.owner, obj=second)
    general = site_message(tenants.owner)
    narrowed = bearer(token_for(tenants.owner, "write", enterprise_id=tenants.enterprise_a.pk))

    listed = [row["id"] for row in narrowed.get(MESSAGES).json()["results"]]

    assert listed == [general.pk, about_a.pk]
    assert narrowed.get(f"{MESSAGES}{about_second.pk}/").status_code == 404
    assert narrowed.post(f"{MESSAGES}{credit_of_second.pk}/read/").status_code == 404
    assert SiteMessage.objects.get(pk=credit_of_second.pk).read_at is None
    unnarrowed = bearer(token_for(tenants.owner, "read"))
    assert len(unnarrowed.get(MESSAGES).json()["results"]) == 4


def test_message_list_in_constant_queries(client, tenants, django_assert_max_num_queries):
    for index in range(5):
        site_message(tenants.owner, title=f"第{index}条", obj=tenants.enterprise_a)

    with django_assert_max_num_queries(8):
        assert len(client.get(MESSAGES).json()["results"]) == 5
