"""Defects found while reorganising (issue 11): read the rendered page, not only the context."""

import re

import pytest
from django.urls import reverse

from approvals.organisation.roles import StaffRole
from credit.ledger.services import LedgerError
from tests import factories
from tests.credit.ledger_helpers import append

pytestmark = pytest.mark.django_db


def test_supervision_page_has_a_short_title_and_shows_the_inspections_table(client):
    client.force_login(factories.staff_with_role(StaffRole.SUPERVISOR))
    client.cookies["django_language"] = "en"
    response = client.get(reverse("workbench:supervision"))
    assert response.status_code == 200
    html = response.content.decode()
    title = re.search(r"<title>(.*?)</title>", html, re.DOTALL).group(1)
    assert "E-supervision" in title and len(title) < 100
    body = html.split("</head>", 1)[1]
    assert "Verifications and inspections" in body and "No open verifications or inspections." in body


@pytest.mark.parametrize(
    ("field", "length", "code"),
    [("document_number", 101, "document_number_too_long"), ("legal_basis", 301, "legal_basis_too_long")],
)
def test_a_ledger_entry_refuses_a_legal_reference_it_would_have_to_cut(enterprise, field, length, code):
    with pytest.raises(LedgerError) as excinfo:
        append(enterprise, **{field: "文" * length})
    assert excinfo.value.code == code
    entry = append(enterprise, **{field: "文" * (length - 1)})
    assert getattr(entry, field) == "文" * (length - 1)


def test_the_language_switch_names_each_language_in_itself(client):
    html = client.get("/").content.decode()
    options = dict(re.findall(r'<option value="([\w-]+)"[^>]*lang="[\w-]+">([^<]+)</option>', html))
    assert options == {"zh-hans": "简体中文", "en": "English"}


def test_every_layout_links_the_favicon(client, admin_client):
    from django.test import Client

    staff = Client()
    staff.force_login(factories.staff_with_role(StaffRole.SUPERVISOR))
    pages = [client.get("/"), admin_client.get("/admin/"), staff.get("/staff/standardapproval/flows/")]
    for response in pages:
        assert response.status_code == 200
        assert 'rel="icon" href="/static/favicon.svg"' in response.content.decode()


def test_decided_as_an_event_and_as_a_time_read_differently_in_chinese():
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override("zh-hans"):
        assert render_to_string("_partials/event_label.html", {"action": "decided"}).strip() == "已作出决定"
        assert str(translation.gettext("Decided")) == "决定时间"


def test_the_audit_trail_shows_words_not_internal_codes(client, auditor):
    from core.services import audit_read_record

    audit_read_record(actor=auditor, object_type="approvals.application", object_id="17")
    audit_read_record(actor=auditor, object_type="core.auditevent", object_id="*")
    audit_read_record(
        actor=auditor, object_type="workbench:application", object_id="17", data={"path": "/workbench/applications/17/"}
    )
    client.force_login(auditor)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("audit:events")).content.decode()
    body = html.split("</head>", 1)[1]
    for code in ("auditor.read", "approvals.application", "core.auditevent#", "workbench:application"):
        assert code not in body, code
    assert "Read by an auditor" in body and "application 17" in body
    assert "page /workbench/applications/17/" in body


def test_viewflow_status_labels_are_translated():
    from django.utils import translation
    from viewflow.workflow.status import PROCESS, STATUS

    with translation.override("zh-hans"):
        labels = {str(label) for _value, label in [*PROCESS.choices, *STATUS.choices]}
    assert "New" not in labels and "待办理" in labels
    assert all(not label.isascii() for label in labels)
