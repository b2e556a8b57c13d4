"""The approval list: versions, publication, admin screens."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from approvals.catalogue import services as catalogue
from approvals.models import ApprovalItemVersion, CalendarDay, CalendarVersion, CalendarYear
from tests.workflows.conftest import make_item

pytestmark = pytest.mark.django_db


def test_publishing_a_new_version_closes_the_old(bureau):
    first = make_item(bureau, code="SC-100")
    draft = catalogue.item_version_copy(actor=None, version=first)
    assert draft.number == 2 and draft.status == ApprovalItemVersion.Status.DRAFT
    assert list(draft.materials.values_list("name", flat=True)) == list(first.materials.values_list("name", flat=True))
    catalogue.item_version_publish(actor=None, version=draft)
    first.refresh_from_db()
    assert first.status == ApprovalItemVersion.Status.CLOSED and first.closed_at is not None
    assert ApprovalItemVersion.objects.get(item__code="SC-100", status="published").number == 2


def test_promised_limit_over_statutory_is_refused(bureau):
    with pytest.raises(catalogue.CatalogueError) as excinfo:
        make_item(bureau, statutory_limit_days=5, promised_limit_days=6)
    assert excinfo.value.code == "promised_over_statutory"
    version = make_item(bureau)
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalItemVersion.objects.filter(pk=version.pk).update(promised_limit_days=99)


def test_database_allows_one_published_version_per_item(bureau):
    first = make_item(bureau, code="SC-200")
    draft = catalogue.item_version_copy(actor=None, version=first)
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalItemVersion.objects.filter(pk=draft.pk).update(status="published", published_at=first.published_at)


def test_publishing_twice_is_refused(bureau):
    version = make_item(bureau)
    with pytest.raises(catalogue.CatalogueError) as excinfo:
        catalogue.item_version_publish(actor=None, version=version)
    assert excinfo.value.code == "version_not_draft"


def test_published_version_is_read_only_in_admin(client, bureau, administrator):
    version = make_item(bureau)
    client.force_login(administrator)
    url = reverse("admin:approvals_approvalitemversion_change", args=[version.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    client.post(url, {"name": "改名"})
    version.refresh_from_db()
    assert version.name != "改名"


def test_admin_publish_action(client, bureau, administrator):
    draft = catalogue.item_version_copy(actor=None, version=make_item(bureau, code="SC-300"))
    client.force_login(administrator)
    client.post(
        reverse("admin:approvals_approvalitemversion_changelist"),
        {"action": "publish_selected", "_selected_action": [draft.pk]},
    )
    draft.refresh_from_db()
    assert draft.status == ApprovalItemVersion.Status.PUBLISHED


def test_admin_calendar_day_creates_a_version(client, administrator):
    client.force_login(administrator)
    before = CalendarVersion.objects.count()
    response = client.post(
        reverse("admin:approvals_calendarday_add"),
        {"date": "2026-12-31", "kind": "holiday", "name": "临时休假", "note": "市政府通知"},
    )
    assert response.status_code == 302
    assert CalendarVersion.objects.count() == before + 1
    assert CalendarDay.objects.get(date="2026-12-31", removed_in__isnull=True).kind == "holiday"
    bad = client.post(
        reverse("admin:approvals_calendarday_add"), {"date": "2026-12-30", "kind": "holiday", "name": "x"}
    )
    assert bad.status_code == 200 and bad.context["adminform"].form.errors


def test_admin_enters_a_year_from_the_package(client, administrator):
    client.force_login(administrator)
    response = client.post(reverse("admin:approvals_calendaryear_add"), {"year": "2025"})
    assert response.status_code == 302
    year = CalendarYear.objects.get(year=2025)
    assert year.source == CalendarYear.Source.PACKAGE
    assert CalendarDay.objects.filter(date__year=2025).count() > 20
    again = client.post(reverse("admin:approvals_calendaryear_add"), {"year": "2025"})
    assert again.context["adminform"].form.has_error("__all__", "year_already_published")
