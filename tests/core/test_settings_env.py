import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, parse_database_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "url",
    [
        "postgres://user:pw@127.0.0.1:5432/reformflow",
        "postgresql://127.0.0.1/reformflow",
        "sqlite:////tmp/reformflow.sqlite3",
    ],
)
def test_well_formed_database_urls_are_accepted(url):
    config = parse_database_url(url)
    assert config["ENGINE"] in {"django.db.backends.postgresql", "django.db.backends.sqlite3"}


@pytest.mark.parametrize(
    "url",
    [
        "postgres://user:pw@127.0.0.1:notaport/reformflow",
        "postgres://user:pw@127.0.0.1:5432/",
        "postgres:///reformflow",
        "mysql://root@127.0.0.1/reformflow",
        "127.0.0.1:5432/reformflow",
        "not a url at all",
        "sqlite://",
    ],
)
def test_malformed_database_urls_are_refused_with_clear_message(url):
    with pytest.raises(ImproperlyConfigured) as excinfo:
        parse_database_url(url)
    assert "DATABASE_URL" in str(excinfo.value)


def test_bool_int_and_list_parsing_fail_loudly():
    assert env_bool("X", False, environ={"X": "Yes"}) is True
    assert env_bool("X", True, environ={"X": "0"}) is False
    assert env_bool("X", True, environ={}) is True
    with pytest.raises(ImproperlyConfigured, match="X='maybe'"):
        env_bool("X", False, environ={"X": "maybe"})
    with pytest.raises(ImproperlyConfigured, match="not an integer"):
        env_int("X", 1, environ={"X": "ten"})
    with pytest.raises(ImproperlyConfigured, match="at least"):
        env_int("X", 1, minimum=1, environ={"X": "0"})
    assert env_list("X", [], environ={"X": "a.example, b.example"}) == ["a.example", "b.example"]
    with pytest.raises(ImproperlyConfigured, match="empty item"):
        env_list("X", [], environ={"X": "a,,b"})


def _manage_check(**env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DEBUG", "SECRET_KEY"}}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_process_refuses_to_start_with_malformed_database_url():
    result = _manage_check(DEBUG="1", DATABASE_URL="postgres://user@host:99999999/db")
    assert result.returncode != 0
    assert "DATABASE_URL is malformed" in result.stderr


def test_process_refuses_to_start_without_secret_key_in_production():
    result = _manage_check(DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_process_refuses_bad_boolean():
    result = _manage_check(DEBUG="perhaps")
    assert result.returncode != 0
    assert "DEBUG='perhaps' is not a boolean" in result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SMS_BACKEND": "carrier-pigeon"}, "SMS_BACKEND='carrier-pigeon' is not console or http"),
        ({"SMS_BACKEND": "http"}, "SMS_BACKEND=http needs SMS_GATEWAY_URL and SMS_GATEWAY_TOKEN"),
        (
            {"SMS_BACKEND": "http", "SMS_GATEWAY_URL": "https://sms.example.invalid/v1/sms"},
            "SMS_BACKEND=http needs SMS_GATEWAY_URL and SMS_GATEWAY_TOKEN",
        ),
        (
            {"SMS_BACKEND": "http", "SMS_GATEWAY_URL": "ftp://sms.example.invalid/", "SMS_GATEWAY_TOKEN": "t"},
            "SMS_GATEWAY_URL='ftp://sms.example.invalid/' is not an http(s) URL",
        ),
        ({"SMS_GATEWAY_URL": "https:///no-host"}, "is not an http(s) URL"),
        ({"SMS_GATEWAY_TIMEOUT": "soon"}, "SMS_GATEWAY_TIMEOUT='soon' is not an integer"),
        ({"SMS_GATEWAY_TIMEOUT": "0"}, "SMS_GATEWAY_TIMEOUT=0 must be at least 1"),
        ({"SMS_MAX_CHARS": "10"}, "SMS_MAX_CHARS=10 must be at least 40"),
    ],
)
def test_process_refuses_bad_sms_settings(env, message):
    result = _manage_check(DEBUG="1", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_process_starts_with_an_http_sms_gateway():
    result = _manage_check(
        DEBUG="1",
        SMS_BACKEND="HTTP",
        SMS_GATEWAY_URL="https://sms.example.invalid/v1/sms",
        SMS_GATEWAY_TOKEN="t",
        SMS_GATEWAY_TIMEOUT="5",
        SMS_MAX_CHARS="140",
    )
    assert result.returncode == 0, result.stderr


def test_the_beat_schedule_and_every_jobs_least_gap_come_from_job_periods(settings, monkeypatch):
    import datetime

    from config.celery import app
    from core import scheduling

    # the beat schedule holds every job of JOB_PERIODS on its period, and nothing else
    assert {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} == (
        settings.JOB_PERIODS
    )
    # each job's task claims its run with three quarters of the period JOB_PERIODS gives it, not a number of its
    # own: with distinct made-up periods a task that kept its own would be seen
    settings.JOB_PERIODS = {name: 1000.0 + 7 * index for index, name in enumerate(settings.JOB_PERIODS)}
    claimed: dict[str, datetime.timedelta] = {}

    def claim(name: str, *, min_gap: datetime.timedelta, now: object = None) -> bool:
        claimed[name] = min_gap
        return False  # skipped: the job's work does not run

    monkeypatch.setattr(scheduling, "job_claim", claim)
    app.autodiscover_tasks(force=True)
    for name in settings.JOB_PERIODS:
        assert app.tasks[name]() is None
    assert claimed == {name: datetime.timedelta(seconds=period) * 0.75 for name, period in settings.JOB_PERIODS.items()}


def _settings_of(**env: str) -> subprocess.CompletedProcess[str]:
    """Import the settings module in a fresh interpreter with ``env``; print the job periods and
    the beat schedule as JSON."""
    environment = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "JOB_PERIOD_SCALE"}}
    environment.update(DEBUG="1", **env)
    return subprocess.run(
        [sys.executable, "-c", "import json, config.settings as s; print(json.dumps([s.JOB_PERIODS, s.CELERY_BEAT_SCHEDULE]))"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_job_period_scale_scales_every_period_and_the_beat_with_it():
    unscaled = _settings_of()
    halved = _settings_of(JOB_PERIOD_SCALE="0.5")
    assert unscaled.returncode == 0 and halved.returncode == 0, unscaled.stderr + halved.stderr
    (periods, _), (scaled, beat) = json.loads(unscaled.stdout), json.loads(halved.stdout)
    assert periods == {
        "workflows.timers": 30.0,
        "outbox.sweep": 60.0,
        "webhooks.sweep": 60.0,
        "approvals.rectification_sweep": 600.0,
        "approvals.step_deadlines": 600.0,
        "credit.ledger_checkpoint": 600.0,
        "workflows.supervision_sweep": 600.0,
        "approvals.integrity_scan": 3600.0,
        "approvals.efficiency_rollup": 3600.0,
    }
    assert scaled == {name: seconds / 2 for name, seconds in periods.items()}
    assert {entry["task"]: entry["schedule"] for entry in beat.values()} == scaled


@pytest.mark.parametrize("value", ["0", "-2", "ten", "nan", "inf", "1e400"])
def test_process_refuses_a_job_period_scale_that_is_not_a_positive_number(value):
    result = _settings_of(JOB_PERIOD_SCALE=value)
    assert result.returncode != 0
    assert f"ImproperlyConfigured: JOB_PERIOD_SCALE={value!r}" in result.stderr


_SSO_CLIENT = {"OIDC_RP_CLIENT_ID": "reformflow", "OIDC_RP_CLIENT_SECRET": "s"}
_SSO_ENDPOINTS = {
    "OIDC_OP_ISSUER": "https://idp.example.gov.cn",
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "https://idp.example.gov.cn/authorize",
    "OIDC_OP_TOKEN_ENDPOINT": "https://idp.example.gov.cn/token",
    "OIDC_OP_USER_ENDPOINT": "https://idp.example.gov.cn/userinfo",
    "OIDC_OP_JWKS_ENDPOINT": "https://idp.example.gov.cn/jwks",
}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OIDC_RP_CLIENT_ID": "reformflow"}, "OIDC_RP_CLIENT_ID and OIDC_RP_CLIENT_SECRET are set together"),
        (_SSO_CLIENT, "needs OIDC_OP_DISCOVERY_URL or every endpoint; missing: OIDC_OP_ISSUER"),
        ({**_SSO_CLIENT, **_SSO_ENDPOINTS, "OIDC_OP_JWKS_ENDPOINT": ""}, "missing: OIDC_OP_JWKS_ENDPOINT"),
        ({"OIDC_OP_DISCOVERY_URL": "http://idp.example.gov.cn/"}, "is not an https URL (http only on a loopback host)"),
        ({**_SSO_CLIENT, **_SSO_ENDPOINTS, "OIDC_RP_SIGN_ALGO": "HS256"}, "is not an asymmetric JWS algorithm"),
        ({"OIDC_RP_SCOPES": "profile"}, "must include openid"),
    ],
)
def test_process_refuses_bad_sso_settings(env, message):
    result = _manage_check(DEBUG="1", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_process_starts_with_sso_by_discovery_without_reaching_the_provider():
    # Nothing listens there: the discovery document is read at the first sign-on, not at start-up.
    result = _manage_check(DEBUG="1", **_SSO_CLIENT, OIDC_OP_DISCOVERY_URL="http://127.0.0.1:9/o")
    assert result.returncode == 0, result.stderr


def test_process_refuses_a_malformed_or_mismatched_replica_url():
    # a replica URL is checked like DATABASE_URL, and named in the message
    result = _manage_check(DEBUG="1", DATABASE_REPLICA_URL="postgres://user@host:99999999/db")
    assert result.returncode != 0
    assert "DATABASE_REPLICA_URL is malformed" in result.stderr
    # a replica of another kind than the primary cannot be a replica of it
    result = _manage_check(DEBUG="1", DATABASE_REPLICA_URL="postgres://user@127.0.0.1:5432/reformflow")
    assert result.returncode != 0
    assert "DATABASE_REPLICA_URL must name a database of the same kind as DATABASE_URL" in result.stderr


def test_a_replica_url_adds_a_replica_alias_that_mirrors_default_in_tests():
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY"}}
    replica = ROOT / "var" / "replica-never-opened.sqlite3"
    env.update(DEBUG="1", DATABASE_REPLICA_URL=f"sqlite:///{replica}")
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps({'alias': settings.DATABASE_REPLICA_ALIAS, "
        "'name': settings.DATABASES['replica']['NAME'], 'mirror': settings.DATABASES['replica']['TEST']['MIRROR']}))"
    )
    result = subprocess.run(  # noqa: S603  (our interpreter, our code string)
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {"alias": "replica", "name": str(replica), "mirror": "default"}
