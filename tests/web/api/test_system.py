"""The systems of other authorities, end to end: a system account is registered, its client takes a
token at /oauth/token/ (client credentials) and calls the credit import and the grade look-up;
scopes, tokens, sessions and throttling are refused in the one error shape."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from oauth2_provider.models import AccessToken
from rest_framework.test import APIClient

from core.models import AuditEvent, User
from core.system_accounts.models import AuthorityKind, SystemAccount
from core.system_accounts.services import system_account_register, system_account_update
from credit.ledger import services as ledger_services
from credit.ledger.models import ImportBatch, LedgerEntry
from tests import factories

pytestmark = pytest.mark.django_db

IMPORT = "/api/v1/system/credit-records/"
COURT = "沈阳市中级人民法院"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def register(scopes=("credit:import", "credit:grade"), authority=COURT):
    return system_account_register(
        actor=None, name="法院执行系统", authority=authority, authority_kind=AuthorityKind.COURT, scopes=scopes
    )


def token_for(registered, **extra) -> dict:
    response = APIClient().post(
        "/oauth/token/",
        {
            "grant_type": "client_credentials",
            "client_id": registered.client_id,
            "client_secret": registered.client_secret,
            **extra,
        },
    )
    assert response.status_code == 200, response.content
    return response.json()


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def record(enterprise, number="(2026)辽01执1号", **overrides) -> dict:
    return {
        "uscc": enterprise.uscc,
        "kind": "court_dishonest_debtor",
        "occurred_on": "2026-03-02",
        "document_number": number,
        "legal_basis": "《最高人民法院关于公布失信被执行人名单信息的若干规定》",
        "reason": "",
        **overrides,
    }


def grade_url(uscc: str) -> str:
    return f"/api/v1/system/grades/{uscc}/"


# --- the token ------------------------------------------------------------------------------------


def test_client_credentials_give_a_token_with_the_accounts_scopes():
    registered = register()

    token = token_for(registered)

    assert token["token_type"] == "Bearer"
    assert set(token["scope"].split()) == {"credit:import", "credit:grade"}
    assert "refresh_token" not in token


def test_a_scope_the_account_does_not_hold_is_not_granted():
    registered = register(scopes=["credit:grade"])

    response = APIClient().post(
        "/oauth/token/",
        {
            "grant_type": "client_credentials",
            "client_id": registered.client_id,
            "client_secret": registered.client_secret,
            "scope": "credit:import",
        },
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert not AccessToken.objects.exists()


def test_a_wrong_secret_gets_no_token():
    registered = register()

    response = APIClient().post(
        "/oauth/token/",
        {"grant_type": "client_credentials", "client_id": registered.client_id, "client_secret": "guess"},
    )

    assert response.status_code == 401
    assert not AccessToken.objects.exists()


def test_the_service_account_is_a_user_of_its_own_kind():
    registered = register()

    user = registered.account.user
    assert user.kind == User.Kind.SYSTEM and not user.has_usable_password()
    assert not user.is_bureau_staff and not user.is_enterprise_user
    assert AuditEvent.objects.filter(action="system_account.registered", object_id=str(registered.account.pk)).exists()


# --- the credit import ----------------------------------------------------------------------------


def test_import_end_to_end_is_recorded_by_the_service_account(enterprise, peer_enterprise):
    registered = register()
    client = bearer(token_for(registered)["access_token"])

    response = client.post(IMPORT, {"records": [record(enterprise), record(peer_enterprise)]}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["records"], body["added"], body["duplicates"], body["already_imported"]) == (2, 2, 0, False)
    entries = LedgerEntry.objects.filter(source_type="import_batch")
    assert entries.count() == 2
    assert {e.recorded_by_id for e in entries} == {registered.account.user_id}
    assert {e.deciding_authority for e in entries} == {COURT}
    batch = ImportBatch.objects.get(pk=body["batch_id"])
    assert batch.imported_by_id == registered.account.user_id and batch.authority == COURT
    assert AuditEvent.objects.filter(action="credit.import_batch", actor=registered.account.user).count() == 1


def test_the_same_batch_twice_adds_nothing(enterprise):
    client = bearer(token_for(register())["access_token"])
    batch = {"records": [record(enterprise)]}
    first = client.post(IMPORT, batch, format="json")

    again = client.post(IMPORT, batch, format="json")

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["already_imported"] is True and again.json()["added"] == 0
    assert again.json()["batch_id"] == first.json()["batch_id"]
    assert LedgerEntry.objects.filter(source_type="import_batch").count() == 1
    assert ImportBatch.objects.count() == 1


def test_a_record_already_in_the_ledger_is_a_duplicate_in_another_batch(enterprise):
    client = bearer(token_for(register())["access_token"])
    client.post(IMPORT, {"records": [record(enterprise)]}, format="json")

    second = client.post(
        IMPORT, {"records": [record(enterprise), record(enterprise, number="(2026)辽01执2号")]}, format="json"
    )

    assert second.status_code == 201
    assert (second.json()["added"], second.json()["duplicates"]) == (1, 1)
    assert LedgerEntry.objects.filter(source_type="import_batch").count() == 2


def test_one_bad_record_rejects_the_batch_and_writes_nothing(enterprise):
    client = bearer(token_for(register())["access_token"])
    unknown = factories.next_uscc()
    batch = {
        "records": [
            record(enterprise),
            record(enterprise, uscc="91210100MA0QHKT1BX"),
            record(enterprise, kind="no_such_kind"),
            record(enterprise, occurred_on="2026-13-01"),
            record(enterprise, occurred_on=(timezone.localdate() + datetime.timedelta(days=3)).isoformat()),
            record(enterprise, document_number=""),
            record(enterprise, uscc=unknown),
        ]
    }
    before = (LedgerEntry.objects.count(), ImportBatch.objects.count(), AuditEvent.objects.count())

    response = client.post(IMPORT, batch, format="json")

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "import_rejected" and body["message"]
    assert [(row["index"], row["code"]) for row in body["rejected"]] == [
        (1, "uscc_invalid"),
        (2, "kind_unknown"),
        (3, "date_invalid"),
        (4, "date_in_future"),
        (5, "document_number_required"),
        (6, "enterprise_unknown"),
    ]
    assert all(row["message"] for row in body["rejected"])
    assert (LedgerEntry.objects.count(), ImportBatch.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.parametrize(
    "body",
    [{}, {"records": []}, {"records": "x"}, {"records": [1]}, {"records": [{"uscc": ["a"]}]}, ["x"]],
)
def test_a_batch_of_the_wrong_shape_is_a_400(body):
    client = bearer(token_for(register())["access_token"])

    response = client.post(IMPORT, body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not ImportBatch.objects.exists()


@override_settings(API_IMPORT_MAX_RECORDS=2)
def test_a_batch_over_the_limit_is_refused_whole(enterprise):
    client = bearer(token_for(register())["access_token"])

    response = client.post(IMPORT, {"records": [record(enterprise, number=f"n{i}") for i in range(3)]}, format="json")

    assert response.status_code == 400
    assert "records" in response.json()["fields"]
    assert not LedgerEntry.objects.filter(source_type="import_batch").exists()


def test_the_csv_import_keeps_its_rules_and_lines(enterprise):
    content = (
        "uscc,kind,occurred_on,document_number,legal_basis,reason\n"
        f"{enterprise.uscc},court_dishonest_debtor,2026-03-02,(2026)辽01执9号,,\n"
        f"{enterprise.uscc},no_such_kind,2026-03-02,(2026)辽01执10号,,\n"
    ).encode()

    report = ledger_services.ledger_import_csv(actor=None, file_name="c.csv", content=content, authority=COURT)

    assert report.rejected == [(3, "kind_unknown", "no_such_kind")]
    assert not LedgerEntry.objects.filter(source_type="import_batch").exists()


# --- scopes, tokens, sessions ---------------------------------------------------------------------


def test_a_token_without_the_scope_is_a_403(enterprise):
    client = bearer(token_for(register(scopes=["credit:grade"]))["access_token"])

    response = client.post(IMPORT, {"records": [record(enterprise)]}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "scope_missing"
    assert not ImportBatch.objects.exists()


def test_a_scope_withdrawn_after_the_token_stops_it_at_once(enterprise):
    registered = register()
    client = bearer(token_for(registered)["access_token"])
    account = registered.account
    system_account_update(
        actor=None,
        account=account,
        authority=account.authority,
        authority_kind=account.authority_kind,
        scopes=["credit:grade"],
        is_active=True,
    )

    assert client.post(IMPORT, {"records": [record(enterprise)]}, format="json").status_code == 403
    assert client.get(grade_url(enterprise.uscc), {"purpose": "loan_guarantee"}).status_code == 200


def test_a_deactivated_account_is_refused_with_its_token(enterprise):
    registered = register()
    client = bearer(token_for(registered)["access_token"])
    account = registered.account
    system_account_update(
        actor=None,
        account=account,
        authority=account.authority,
        authority_kind=account.authority_kind,
        scopes=account.scopes,
        is_active=False,
    )

    response = client.get(grade_url(enterprise.uscc), {"purpose": "loan_guarantee"})

    assert response.status_code == 401
    assert response.json()["code"] == "client_inactive"


def test_no_token_is_a_401(enterprise):
    response = APIClient().post(IMPORT, {"records": [record(enterprise)]}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_or_expired_token_is_a_401(enterprise):
    registered = register()
    token = token_for(registered)["access_token"]
    AccessToken.objects.update(expires=timezone.now() - datetime.timedelta(seconds=1))

    expired = bearer(token).get(grade_url(enterprise.uscc), {"purpose": "loan_guarantee"})
    unknown = bearer("not-a-token").get(grade_url(enterprise.uscc), {"purpose": "loan_guarantee"})

    assert (expired.status_code, expired.json()["code"]) == (401, "token_invalid")
    assert (unknown.status_code, unknown.json()["code"]) == (401, "token_invalid")


def test_a_staff_session_cannot_call_system_endpoints(enterprise, auditor):
    staff = factories.staff_with_role("credit_office")
    for user in (staff, auditor):
        client = APIClient()
        client.force_login(user)

        imported = client.post(IMPORT, {"records": [record(enterprise)]}, format="json")
        looked_up = client.get(grade_url(enterprise.uscc), {"purpose": "loan_guarantee"})

        assert imported.status_code == 401 and looked_up.status_code == 401
    assert not ImportBatch.objects.exists()


def test_a_client_that_is_no_system_account_is_refused(enterprise):
    from oauth2_provider.models import get_application_model

    application_model = get_application_model()
    owner = factories.UserFactory()
    application = application_model.objects.create(
        name="stray",
        user=owner,
        client_type=application_model.CLIENT_CONFIDENTIAL,
        authorization_grant_type=application_model.GRANT_CLIENT_CREDENTIALS,
        client_secret="s3cret-s3cret",
    )
    response = APIClient().post(
        "/oauth/token/",
        {"grant_type": "client_credentials", "client_id": application.client_id, "client_secret": "s3cret-s3cret"},
    )
    token = response.json().get("access_token")
    assert token is not None  # DOT issues it, with no scope at all

    looked_up = bearer(token).get(grade_url(enterprise.uscc), {"purpose": "loan_guarantee"})

    assert (looked_up.status_code, looked_up.json()["code"]) == (401, "client_inactive")


@override_settings(API_SYSTEM_CLIENT_RATE="2/minute")
def test_each_client_is_throttled_on_its_own(enterprise):
    first = register()
    second = register(authority="国家税务总局沈阳市税务局")
    busy = bearer(token_for(first)["access_token"])
    # a second token of the same client counts with the first
    busy_too = bearer(token_for(first)["access_token"])
    calm = bearer(token_for(second)["access_token"])
    query = {"purpose": "loan_guarantee"}

    assert busy.get(grade_url(enterprise.uscc), query).status_code == 200
    assert busy_too.get(grade_url(enterprise.uscc), query).status_code == 200
    throttled = busy.get(grade_url(enterprise.uscc), query)

    assert throttled.status_code == 429 and throttled.json()["code"] == "throttled"
    assert calm.get(grade_url(enterprise.uscc), query).status_code == 200


# --- the grade look-up ----------------------------------------------------------------------------


def test_grade_look_up_is_logged_with_its_purpose(enterprise):
    registered = register()
    client = bearer(token_for(registered)["access_token"])

    response = client.get(grade_url(enterprise.uscc), {"purpose": "loan_guarantee"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["uscc"] == enterprise.uscc and body["grade"] in {"A", "B", "C", "D"}
    assert body["purpose"] == "loan_guarantee"
    read = AuditEvent.objects.get(action="system.read")
    assert read.actor_id == registered.account.user_id
    assert (read.object_type, read.object_id) == ("credit.enterprise.grade", str(enterprise.pk))
    assert read.data["purpose"] == "loan_guarantee" and read.data["client_id"] == registered.client_id
    assert read.data["grade"] == body["grade"]


def test_grade_follows_the_imported_records(enterprise):
    client = bearer(token_for(register())["access_token"])
    before = client.get(grade_url(enterprise.uscc), {"purpose": "credit_lending"}).json()["grade"]

    client.post(IMPORT, {"records": [record(enterprise, occurred_on=timezone.localdate().isoformat())]}, format="json")
    after = client.get(grade_url(enterprise.uscc), {"purpose": "credit_lending"}).json()["grade"]

    assert before != "D" and after == "D"  # a dishonest-debtor listing forces D


@pytest.mark.parametrize(
    ("purpose", "code"),
    [(None, "purpose_required"), ("", "purpose_required"), ("curiosity", "purpose_invalid")],
)
def test_grade_look_up_needs_an_authorised_purpose(enterprise, purpose, code):
    client = bearer(token_for(register())["access_token"])

    response = client.get(grade_url(enterprise.uscc), {} if purpose is None else {"purpose": purpose})

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not AuditEvent.objects.filter(action="system.read").exists()


@pytest.mark.parametrize(
    ("uscc", "code"),
    [
        ("91210100MA0QHKT1BX", "uscc_invalid_checksum"),
        ("123", "uscc_invalid_length"),
        ("9121010OMA0QHKT1BY", "uscc_invalid_format"),
    ],
)
def test_a_malformed_uscc_is_a_400_with_its_code(uscc, code):
    client = bearer(token_for(register())["access_token"])

    response = client.get(grade_url(uscc), {"purpose": "loan_guarantee"})

    assert (response.status_code, response.json()["code"]) == (400, code)


def test_an_unknown_uscc_is_a_404():
    client = bearer(token_for(register())["access_token"])

    response = client.get(grade_url(factories.next_uscc()), {"purpose": "loan_guarantee"})

    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert not AuditEvent.objects.filter(action="system.read").exists()


# --- administration -------------------------------------------------------------------------------


def test_an_administrator_registers_a_system_in_the_admin_and_sees_its_secret_once():
    admin_user = User.objects.create_superuser("root", password="x", kind=User.Kind.STAFF)
    client = APIClient()
    client.force_login(admin_user)

    response = client.post(
        "/admin/core/systemaccount/add/",
        {
            "name": "省信用平台",
            "authority": "辽宁省信用信息共享平台",
            "authority_kind": "credit_platform",
            "scopes": ["credit:grade"],
        },
        follow=True,
    )

    assert response.status_code == 200
    account = SystemAccount.objects.get()
    assert account.scopes == ["credit:grade"] and account.user.kind == User.Kind.SYSTEM
    assert account.application.authorization_grant_type == "client-credentials"
    page = response.content.decode()
    assert account.application.client_id in page
    change = client.get(f"/admin/core/systemaccount/{account.pk}/change/").content.decode()
    assert account.application.client_id in change and "client secret" not in change.lower()


# --- the schema -----------------------------------------------------------------------------------


def test_schema_generates_without_warnings_and_secures_the_system_endpoints(tmp_path):
    target = tmp_path / "schema.json"

    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--format",
        "openapi-json",
        "--file",
        str(target),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )

    import json

    schema = json.loads(target.read_text())
    assert (
        schema["components"]["securitySchemes"]["systemClient"]["flows"]["clientCredentials"]["tokenUrl"]
        == "/oauth/token/"
    )
    assert schema["paths"]["/api/v1/system/credit-records/"]["post"]["security"] == [
        {"systemClient": ["credit:import"]}
    ]
    assert schema["paths"]["/api/v1/system/grades/{uscc}/"]["get"]["security"] == [{"systemClient": ["credit:grade"]}]
    for path in (
        "/api/v1/staff/tasks/",
        "/api/v1/staff/tasks/{task_pk}/claim/",
        "/api/v1/staff/tasks/{task_pk}/decide/",
    ):
        operation = next(iter(schema["paths"][path].values()))
        assert operation["security"] == [{"cookieAuth": []}]


def test_a_system_token_opens_no_staff_resource():
    client = bearer(token_for(register())["access_token"])

    response = client.get("/api/v1/staff/tasks/")

    assert response.status_code == 403
    assert response.json()["code"] == "not_authenticated"


def test_the_clients_own_url_leads_to_its_admin_page():
    registered = register()
    application = registered.account.application

    response = APIClient().get(application.get_absolute_url())

    assert response.status_code == 302
    assert response["Location"] == f"/admin/oauth2_provider/application/{application.pk}/change/"
