import datetime

import pytest
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.models import AuditEvent
from credit.enterprises import selectors, services
from credit.enterprises.services import EnterpriseError, MembershipError
from credit.models import Enterprise, EnterpriseProfileChange, Membership
from tests import factories

pytestmark = pytest.mark.django_db


def _pdf(name="letter.pdf"):
    return ContentFile(factories.PDF_BYTES, name=name)


def test_register_enterprise_stores_normalised_code_and_first_history_row():
    enterprise = services.enterprise_register(
        actor=None, uscc=" 91110000600037341l ", name="  北京某某  有限公司 ", legal_representative="张三"
    )
    assert enterprise.uscc == "91110000600037341L"
    assert enterprise.name == "北京某某 有限公司"
    history = list(EnterpriseProfileChange.objects.filter(enterprise=enterprise))
    assert [(h.name, h.legal_representative) for h in history] == [("北京某某 有限公司", "张三")]
    assert AuditEvent.objects.filter(action="enterprise.registered", object_id=str(enterprise.pk)).count() == 1


def test_register_refuses_duplicate_code_and_writes_nothing():
    services.enterprise_register(actor=None, uscc="91110000600037341L", name="甲", legal_representative="张三")
    with pytest.raises(EnterpriseError) as excinfo:
        services.enterprise_register(actor=None, uscc="91110000600037341l", name="乙", legal_representative="李四")
    assert excinfo.value.code == "enterprise_exists"
    assert Enterprise.objects.count() == 1


def test_profile_change_keeps_history(administrator):
    enterprise = services.enterprise_register(
        actor=None, uscc="91110000600037341L", name="旧名", legal_representative="张三"
    )
    services.enterprise_change_profile(
        actor=administrator,
        enterprise=enterprise,
        name="新名",
        legal_representative="李四",
        effective_on=datetime.date(2026, 5, 1),
        reason="变更登记通知书 沈市监变字〔2026〕88号",
    )
    enterprise.refresh_from_db()
    assert (enterprise.name, enterprise.legal_representative) == ("新名", "李四")
    assert list(enterprise.profile_changes.order_by("id").values_list("name", "legal_representative")) == [
        ("旧名", "张三"),
        ("新名", "李四"),
    ]
    event = AuditEvent.objects.get(action="enterprise.profile_changed")
    assert event.data["before"] == {"name": "旧名", "legal_representative": "张三"}


def test_profile_change_refuses_no_change(administrator, enterprise):
    with pytest.raises(EnterpriseError) as excinfo:
        services.enterprise_change_profile(
            actor=administrator,
            enterprise=enterprise,
            name=enterprise.name,
            legal_representative=enterprise.legal_representative,
            effective_on=timezone.localdate(),
            reason="x",
        )
    assert excinfo.value.code == "profile_unchanged"


def test_requested_membership_is_pending_and_grants_nothing(enterprise):
    user = factories.UserFactory()
    membership = services.membership_request(
        actor=user, enterprise=enterprise, role=Membership.Role.LEGAL_REPRESENTATIVE
    )
    assert membership.status == Membership.Status.PENDING
    assert list(selectors.enterprises_for_user(user=user)) == []
    assert selectors.enterprise_get_for_user(user=user, pk=enterprise.pk) is None


def test_confirmed_membership_grants_access(enterprise, administrator):
    user = factories.UserFactory()
    membership = services.membership_request(
        actor=user, enterprise=enterprise, role=Membership.Role.LEGAL_REPRESENTATIVE
    )
    services.membership_confirm(actor=administrator, membership=membership)
    assert list(selectors.enterprises_for_user(user=user)) == [enterprise]
    assert AuditEvent.objects.filter(action="membership.confirmed", actor=administrator).count() == 1


def test_agent_membership_grants_access_only_within_validity(enterprise):
    membership = factories.MembershipFactory(enterprise=enterprise, agent=True, confirmed=True)
    user = membership.user
    assert selectors.enterprise_get_for_user(user=user, pk=enterprise.pk) == enterprise
    after = membership.valid_until + datetime.timedelta(days=1)
    before = membership.valid_from - datetime.timedelta(days=1)
    assert list(selectors.enterprises_for_user(user=user, on=after)) == []
    assert list(selectors.enterprises_for_user(user=user, on=before)) == []
    assert list(selectors.enterprises_for_user(user=user, on=membership.valid_until)) == [enterprise]


def test_expired_authorisation_grants_nothing(enterprise):
    membership = factories.MembershipFactory(enterprise=enterprise, agent=True, expired=True, confirmed=True)
    assert selectors.enterprise_get_for_user(user=membership.user, pk=enterprise.pk) is None


def test_agent_request_needs_document_and_period(enterprise):
    user = factories.UserFactory()
    with pytest.raises(MembershipError) as excinfo:
        services.membership_request(actor=user, enterprise=enterprise, role=Membership.Role.AGENT)
    assert excinfo.value.code == "document_required"
    with pytest.raises(MembershipError) as excinfo:
        services.membership_request(
            actor=user, enterprise=enterprise, role=Membership.Role.AGENT, authorisation_document=_pdf()
        )
    assert excinfo.value.code == "validity_required"
    today = timezone.localdate()
    with pytest.raises(MembershipError) as excinfo:
        services.membership_request(
            actor=user,
            enterprise=enterprise,
            role=Membership.Role.AGENT,
            authorisation_document=_pdf(),
            valid_from=today,
            valid_until=today - datetime.timedelta(days=1),
        )
    assert excinfo.value.code == "validity_reversed"
    with pytest.raises(MembershipError) as excinfo:
        services.membership_request(
            actor=user,
            enterprise=enterprise,
            role=Membership.Role.AGENT,
            authorisation_document=_pdf(),
            valid_from=today - datetime.timedelta(days=30),
            valid_until=today - datetime.timedelta(days=1),
        )
    assert excinfo.value.code == "validity_expired"
    assert Membership.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "document_empty"),
        (b"MZ\x90\x00 this is an executable", "document_type_not_allowed"),
        (b"<html><script>alert(1)</script>", "document_type_not_allowed"),
    ],
)
def test_authorisation_document_is_sniffed_by_content(enterprise, content, code):
    user = factories.UserFactory()
    today = timezone.localdate()
    with pytest.raises(MembershipError) as excinfo:
        services.membership_request(
            actor=user,
            enterprise=enterprise,
            role=Membership.Role.AGENT,
            authorisation_document=ContentFile(content, name="letter.pdf"),
            valid_from=today,
            valid_until=today + datetime.timedelta(days=30),
        )
    assert excinfo.value.code == code
    assert Membership.objects.count() == 0


def test_authorisation_document_size_limit(enterprise, settings):
    settings.AUTHORISATION_DOCUMENT_MAX_BYTES = 1024
    user = factories.UserFactory()
    today = timezone.localdate()
    with pytest.raises(MembershipError) as excinfo:
        services.membership_request(
            actor=user,
            enterprise=enterprise,
            role=Membership.Role.AGENT,
            authorisation_document=ContentFile(b"%PDF-" + b"0" * 2000, name="big.pdf"),
            valid_from=today,
            valid_until=today + datetime.timedelta(days=30),
        )
    assert excinfo.value.code == "document_too_large"


def test_second_open_membership_refused(enterprise):
    user = factories.UserFactory()
    services.membership_request(actor=user, enterprise=enterprise, role=Membership.Role.LEGAL_REPRESENTATIVE)
    with pytest.raises(MembershipError) as excinfo:
        services.membership_request(actor=user, enterprise=enterprise, role=Membership.Role.LEGAL_REPRESENTATIVE)
    assert excinfo.value.code == "membership_exists"


def test_database_refuses_second_open_membership(enterprise):
    existing = factories.MembershipFactory(enterprise=enterprise)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=existing.user, enterprise=enterprise, role=Membership.Role.LEGAL_REPRESENTATIVE)


def test_rejected_membership_can_be_requested_again(enterprise, administrator):
    user = factories.UserFactory()
    first = services.membership_request(actor=user, enterprise=enterprise, role=Membership.Role.LEGAL_REPRESENTATIVE)
    services.membership_reject(actor=administrator, membership=first, note="材料不符")
    again = services.membership_request(actor=user, enterprise=enterprise, role=Membership.Role.LEGAL_REPRESENTATIVE)
    assert again.status == Membership.Status.PENDING


def test_confirm_twice_refused_with_code(enterprise, administrator):
    membership = factories.MembershipFactory(enterprise=enterprise)
    services.membership_confirm(actor=administrator, membership=membership)
    with pytest.raises(MembershipError) as excinfo:
        services.membership_confirm(actor=administrator, membership=membership)
    assert excinfo.value.code == "membership_not_pending"
    assert AuditEvent.objects.filter(action="membership.confirmed").count() == 1


def test_only_administrator_decides_memberships(enterprise, auditor):
    membership = factories.MembershipFactory(enterprise=enterprise)
    with pytest.raises(MembershipError) as excinfo:
        services.membership_confirm(actor=auditor, membership=membership)
    assert excinfo.value.code == "permission_denied"
    membership.refresh_from_db()
    assert membership.status == Membership.Status.PENDING


def test_reject_and_revoke_need_reason(enterprise, administrator):
    pending = factories.MembershipFactory(enterprise=enterprise)
    with pytest.raises(MembershipError) as excinfo:
        services.membership_reject(actor=administrator, membership=pending, note="  ")
    assert excinfo.value.code == "reason_required"


def test_revoked_membership_grants_nothing(enterprise, administrator):
    membership = factories.MembershipFactory(enterprise=enterprise, confirmed=True)
    services.membership_revoke(actor=administrator, membership=membership, note="离职")
    assert selectors.enterprise_get_for_user(user=membership.user, pk=enterprise.pk) is None


def test_staff_cannot_act_for_enterprise(enterprise):
    staff = factories.UserFactory(staff=True)
    with pytest.raises(MembershipError) as excinfo:
        services.membership_request(actor=staff, enterprise=enterprise, role=Membership.Role.LEGAL_REPRESENTATIVE)
    assert excinfo.value.code == "not_enterprise_user"


def test_claim_unknown_code_registers_enterprise_pending():
    user = factories.UserFactory()
    membership = services.enterprise_claim(
        actor=user,
        uscc="91110000600037341l",
        name="新企业",
        legal_representative="王五",
        role=Membership.Role.LEGAL_REPRESENTATIVE,
    )
    assert membership.enterprise.uscc == "91110000600037341L"
    assert membership.status == Membership.Status.PENDING


def test_claim_known_code_keeps_registered_values(enterprise):
    user = factories.UserFactory()
    membership = services.enterprise_claim(
        actor=user,
        uscc=enterprise.uscc,
        name="冒名企业",
        legal_representative="冒名",
        role=Membership.Role.LEGAL_REPRESENTATIVE,
    )
    enterprise.refresh_from_db()
    assert membership.enterprise == enterprise
    assert enterprise.name != "冒名企业"
