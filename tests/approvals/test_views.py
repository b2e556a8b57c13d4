import pytest
from django.urls import reverse

from approvals.organisation.roles import StaffRole
from core.models import AuditEvent
from credit.models import Membership
from tests import factories

pytestmark = pytest.mark.django_db


def nav_keys(response):
    return [item["key"] for item in response.context["nav_items"]]


def test_navigation_by_role(client, owner, auditor, administrator):
    client.force_login(owner)
    assert nav_keys(client.get(reverse("portal:home"))) == ["portal", "applications", "policies", "services"]
    reviewer = factories.staff_with_role(StaffRole.REVIEWER, department=factories.department())
    client.force_login(reviewer)
    assert nav_keys(client.get(reverse("workbench:home"))) == ["workbench"]
    client.force_login(auditor)
    assert nav_keys(client.get(reverse("workbench:home"))) == ["workbench", "efficiency", "audit"]
    client.force_login(administrator)
    assert nav_keys(client.get(reverse("workbench:home"))) == ["workbench", "admin"]
    client.force_login(factories.staff_with_role(StaffRole.POLICY_OFFICE))
    assert nav_keys(client.get(reverse("workbench:home"))) == ["workbench", "policy_office"]


def test_home_sends_each_user_to_their_area(client, owner, auditor):
    client.force_login(owner)
    assert client.get(reverse("home"))["Location"] == reverse("portal:home")
    client.force_login(auditor)
    assert client.get(reverse("home"))["Location"] == reverse("workbench:home")


def test_workbench_lists_roles_and_delegations(client):
    x = factories.department("消防审验处")
    staff = factories.staff_with_role(StaffRole.REVIEWER, department=x)
    client.force_login(staff)
    body = client.get(reverse("workbench:home")).content.decode()
    assert "消防审验处" in body


def test_enterprise_user_cannot_reach_staff_areas(client, owner):
    client.force_login(owner)
    for name in ("workbench:home", "audit:home", "audit:events"):
        assert client.get(reverse(name)).status_code == 404


def test_non_auditor_staff_cannot_reach_auditor_console(client, enterprise):
    reviewer = factories.staff_with_role(StaffRole.REVIEWER, department=factories.department())
    client.force_login(reviewer)
    assert client.get(reverse("audit:home")).status_code == 404
    assert client.get(reverse("audit:enterprise", args=[enterprise.pk])).status_code == 404


def test_every_auditor_read_is_logged(client, auditor, enterprise):
    client.force_login(auditor)
    client.get(reverse("audit:home"), {"q": "测试"})
    client.get(reverse("audit:enterprise", args=[enterprise.pk]))
    client.get(reverse("audit:events"))
    reads = AuditEvent.objects.filter(action="auditor.read", actor=auditor).order_by("id")
    assert [(r.object_type, r.object_id) for r in reads] == [
        ("credit.enterprise", "*"),
        ("credit.enterprise", str(enterprise.pk)),
        ("core.auditevent", "*"),
    ]
    assert reads[0].data["q"] == "测试"


def test_auditor_console_search_by_code(client, auditor, enterprise, peer_enterprise):
    client.force_login(auditor)
    response = client.get(reverse("audit:home"), {"q": enterprise.uscc.lower()})
    assert list(response.context["page"]) == [enterprise]


def test_auditor_cannot_change_anything(client, auditor, enterprise):
    membership = factories.MembershipFactory(enterprise=enterprise)
    client.force_login(auditor)
    response = client.post(reverse("admin:credit_membership_decide", args=[membership.pk, "confirm"]), {"note": ""})
    assert response.status_code == 302  # the admin site sends non-staff to its login page
    assert reverse("admin:login") in response["Location"]
    membership.refresh_from_db()
    assert membership.status == Membership.Status.PENDING


def test_audit_list_query_count_does_not_grow(client, auditor, django_assert_max_num_queries):
    factories.EnterpriseFactory.create_batch(2)
    client.force_login(auditor)
    with django_assert_max_num_queries(20) as small:
        client.get(reverse("audit:home"))
    factories.EnterpriseFactory.create_batch(20)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(reverse("audit:home"))


def test_audit_events_query_count_does_not_grow(client, auditor, django_assert_max_num_queries):
    client.force_login(auditor)
    with django_assert_max_num_queries(20) as small:
        client.get(reverse("audit:events"))
    for _ in range(10):
        factories.EnterpriseFactory()
        factories.MembershipFactory()
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(reverse("audit:events"))


def test_audit_enterprise_query_count_does_not_grow(client, auditor, enterprise, django_assert_max_num_queries):
    client.force_login(auditor)
    with django_assert_max_num_queries(25) as small:
        client.get(reverse("audit:enterprise", args=[enterprise.pk]))
    factories.MembershipFactory.create_batch(8, enterprise=enterprise, confirmed=True)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(reverse("audit:enterprise", args=[enterprise.pk]))


@pytest.mark.parametrize("page", ["abc", "-1", "99999", "1' OR '1'='1"])
def test_bad_page_numbers_never_500(client, auditor, page):
    client.force_login(auditor)
    assert client.get(reverse("audit:home"), {"page": page}).status_code == 200
