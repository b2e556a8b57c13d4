"""ReformFlow settings: one module, configured from the environment (see README.md).

Every variable is read through ``config.env``, which raises ``ImproperlyConfigured`` on a value it
cannot understand.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_int, env_list, env_str, parse_database_url

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if SECRET_KEY is None:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (see README.md).")
    SECRET_KEY = "insecure-development-key-only-used-when-DEBUG-is-on"  # noqa: S105
elif not DEBUG and len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters long when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # Ours, bottom layer first: core ← credit ← approvals ← workflows ← web.
    "core",
    "credit",
    "approvals",
    "workflows",
    "web",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "guardian",
    "axes",
    "django_filters",
    "viewflow",
    "viewflow.workflow",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # OAuth2 client credentials for the systems of other authorities (core.system_accounts)
    "oauth2_provider",
    # django-csp: only for its system checks (a policy in the pre-4.0 format is an error).
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # viewflow's staff frontend under /staff/ (wired by hand: VIEWFLOW["AUTOREGISTER"] is off).
    "web.staff.site.StaffAreaMiddleware",
    "viewflow.middleware.SiteMiddleware",
    "viewflow.middleware.HotwireTurboMiddleware",
    "web.audit_reads.AuditorReadMiddleware",  # one auditor.read per successful read; needs request.user
    # After the auditor-read middleware, so that its record (a write, on the primary) falls outside
    # the request's routing and does not pin the auditor to the primary (core/db_routing.py).
    "core.db_routing.ReplicaRoutingMiddleware",
    # Last, as django-axes requires: it inspects the result of the authentication attempt.
    "axes.middleware.AxesMiddleware",
]

# viewflow would otherwise append its frontend middleware to MIDDLEWARE at runtime; the staff
# frontend is wired explicitly when a flow needs it.
VIEWFLOW = {"AUTOREGISTER": False}

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.navigation",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
assert DATABASE_URL is not None
DATABASES = {"default": parse_database_url(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded demo database: wait for a writer instead of failing at once with "database is
    # locked" when the timer dispatcher and the web server write together.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    # The dashboard's covering indexes (``include=``) are PostgreSQL's; SQLite builds them without the
    # extra columns, which only costs the demo database an index-only scan it does not need.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
# A read replica (docs/scaling.md): a streaming replica of the primary, parsed like DATABASE_URL.
# Unset, there is no second alias and every query goes to "default". Set, core.db_routing sends
# the reads of the read-only pages (marked @replica_reads: the auditor's console, the efficiency
# dashboard and its export, the public pages) there on GET and HEAD, and everything else — every
# write, a read inside a transaction or after the request wrote, the session and permissions, and
# every page for DATABASE_REPLICA_PIN_SECONDS after the same browser wrote (read-your-own-writes)
# — to the primary. In tests the replica mirrors the test database (TEST MIRROR).
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
DATABASE_REPLICA_ALIAS = "replica" if DATABASE_REPLICA_URL else None
if DATABASE_REPLICA_URL:
    _replica = parse_database_url(DATABASE_REPLICA_URL, name="DATABASE_REPLICA_URL")
    if _replica["ENGINE"] != DATABASES["default"]["ENGINE"]:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must name a database of the same kind as DATABASE_URL.")
    if _replica["ENGINE"] == "django.db.backends.sqlite3":
        _replica["OPTIONS"] = dict(DATABASES["default"]["OPTIONS"])
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = _replica
# Longer than the replica's worst lag you tolerate (alert on pg_stat_replication.replay_lag above it).
DATABASE_REPLICA_PIN_SECONDS = env_int("DATABASE_REPLICA_PIN_SECONDS", 15, minimum=1)
DATABASE_ROUTERS = ["core.db_routing.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses locked-out (username, IP) pairs before any password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Single sign-on (below): answers only the OIDC callback, and only when SSO is configured.
    "web.accounts.oidc.ProvincialIdentityBackend",
    "guardian.backends.ObjectPermissionBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# django-guardian: no anonymous user row (nothing here grants anonymous object permissions).
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

# django-axes: lock a (username, IP) pair, never the username alone, so that someone guessing a
# password from one address cannot lock the real user out everywhere else.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 30, minimum=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_IPWARE_PROXY_COUNT = env_int("AXES_PROXY_COUNT", 0, minimum=0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if AXES_IPWARE_PROXY_COUNT else ["REMOTE_ADDR"]
)

# Sessions and cookies: secure by default unless DEBUG; behind a TLS-terminating load balancer set
# SECURE_PROXY_SSL_HEADER=1 so Django trusts X-Forwarded-Proto.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", SECURE_HSTS_SECONDS > 0)
# Preloading is hard to undo (browsers ship the list for months): only on an explicit decision.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy (django-csp): the site's own scripts, styles and images only. No
# 'unsafe-inline' anywhere: an injected <script>, on*= handler or style= attribute does not run, so
# templates keep every script and style in static files (tests/test_csp.py scans them). The QR
# codes are served from /verify/<code>/qr.svg and the credit chart is SVG markup in the page, so
# img-src needs no data: URIs. viewflow's staff frontend is overridden to fit (templates/viewflow/);
# its Turbo library inserts one <style> for its progress bar, allowed by a per-response nonce that
# only templates/viewflow/base.html asks for (django-csp leaves NONCE out of every other response).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "img-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

# Language and time: Chinese first, English available; all dates stored in UTC and shown in
# Asia/Shanghai, which is also the zone of the working-day calendar.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")) or "")
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")) or "")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed file names (long cache lifetimes) need `collectstatic` first; off in DEBUG and tests.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("STATIC_MANIFEST", not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
AUTHORISATION_DOCUMENT_MAX_BYTES = env_int("AUTHORISATION_DOCUMENT_MAX_BYTES", 5 * 1024 * 1024, minimum=1024)

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ReformFlow <noreply@localhost>")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))

# Redis: the shared cache (and, from the background-work issue on, the Celery broker). Unset, the
# embedded demo uses a per-process memory cache, which is fine for a single process.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL is not None:
    if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(f"REDIS_URL={REDIS_URL!r} is malformed; use redis://host:6379/0.")
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Notices (core.outbox): where links in e-mails point, the domain of their Message-IDs, and the
# retries of a failing delivery (base · 2^(n-1) seconds, capped, then dead).
NOTICE_SITE_URL = (env_str("NOTICE_SITE_URL", "http://127.0.0.1:8000") or "").rstrip("/")
NOTICE_MAIL_DOMAIN = env_str("NOTICE_MAIL_DOMAIN", "reformflow.localhost")
# The authority that issues the written notices (their heading and signature).
NOTICE_BUREAU_NAME = env_str("NOTICE_BUREAU_NAME", "沈阳市行政审批局")
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 6, minimum=1)
OUTBOX_RETRY_BASE_SECONDS = env_int("OUTBOX_RETRY_BASE_SECONDS", 30, minimum=1)
OUTBOX_RETRY_MAX_SECONDS = env_int("OUTBOX_RETRY_MAX_SECONDS", 3600, minimum=1)
# Deliveries per Celery task (core.outbox.services.deliveries_enqueue): one task per delivery spent
# more on the broker round trip than on the delivery.
OUTBOX_BATCH_SIZE = env_int("OUTBOX_BATCH_SIZE", 50, minimum=1)
# Webhooks (core.webhooks): signed POSTs to external systems, retried like the outbox's deliveries
# (base · 2^(n-1) seconds, capped) until WEBHOOK_MAX_ATTEMPTS, then dead. Each POST waits at most
# WEBHOOK_TIMEOUT_SECONDS. Subscriptions must use https, except to a loopback address or where
# WEBHOOK_ALLOW_HTTP allows plain http (a closed test network).
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 10, minimum=1)
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 30, minimum=1)
WEBHOOK_RETRY_MAX_SECONDS = env_int("WEBHOOK_RETRY_MAX_SECONDS", 3600, minimum=1)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
if WEBHOOK_TIMEOUT_SECONDS > 60:
    raise ImproperlyConfigured(
        "WEBHOOK_TIMEOUT_SECONDS must be at most 60: a worker holds the delivery's lock meanwhile."
    )
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", False)
# SMS notices (core.outbox.sms): "console" logs them (development), "http" posts them to a gateway
# with a bearer token. The text starts with the bureau's name in 【】 (the carriers' signature) and
# is cut to SMS_MAX_CHARS characters.
SMS_BACKEND = (env_str("SMS_BACKEND", "console") or "console").lower()
if SMS_BACKEND not in {"console", "http"}:
    raise ImproperlyConfigured(f"SMS_BACKEND={SMS_BACKEND!r} is not console or http.")
SMS_GATEWAY_URL = env_str("SMS_GATEWAY_URL", "") or ""
SMS_GATEWAY_TOKEN = env_str("SMS_GATEWAY_TOKEN", "") or ""
if SMS_GATEWAY_URL:
    _sms_url = urlsplit(SMS_GATEWAY_URL)
    if _sms_url.scheme not in {"http", "https"} or not _sms_url.hostname:
        raise ImproperlyConfigured(f"SMS_GATEWAY_URL={SMS_GATEWAY_URL!r} is not an http(s) URL.")
if SMS_BACKEND == "http" and not (SMS_GATEWAY_URL and SMS_GATEWAY_TOKEN):
    raise ImproperlyConfigured("SMS_BACKEND=http needs SMS_GATEWAY_URL and SMS_GATEWAY_TOKEN (see README.md).")
SMS_SENDER = env_str("SMS_SENDER", "") or ""
SMS_GATEWAY_TIMEOUT = env_int("SMS_GATEWAY_TIMEOUT", 10, minimum=1)
SMS_MAX_CHARS = env_int("SMS_MAX_CHARS", 300, minimum=40)

# Celery (config/celery.py). Production and CI: Redis as broker and result backend
# (CELERY_BROKER_URL, default REDIS_URL). Without either, the embedded demo uses kombu's filesystem
# transport under var/celery/, which needs no server. CELERY_TASK_ALWAYS_EAGER=1 runs tasks in the
# calling process (the unit tests).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A broker that is down must not hold up the request whose commit hands the delivery over: one
# quick try, and the outbox sweep delivers later.
CELERY_BROKER_CONNECTION_TIMEOUT = 1.0
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
    "socket_connect_timeout": 1,
    "socket_timeout": 10,
}
if CELERY_BROKER_URL == "filesystem://":
    _celery_dir = BASE_DIR / "var" / "celery"
    for _folder in ("queue", "processed", "control"):
        (_celery_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "queue"),
        "data_folder_out": str(_celery_dir / "queue"),
        "processed_folder": str(_celery_dir / "processed"),
        "control_folder": str(_celery_dir / "control"),
        "store_processed": False,
    }
# The periodic jobs, in seconds between two runs: the one place their periods are set. The beat
# schedule is built from it and each job's claim (core.scheduling) refuses a run within half its
# period, so the schedule and the guard against a second beat cannot disagree. JOB_PERIOD_SCALE
# multiplies them all (a test runs the beat in seconds instead of minutes).
_job_period_scale = env_str("JOB_PERIOD_SCALE", "1") or "1"
try:
    JOB_PERIOD_SCALE = float(_job_period_scale)
except ValueError:
    raise ImproperlyConfigured(f"JOB_PERIOD_SCALE={_job_period_scale!r} is not a number.") from None
if not 0 < JOB_PERIOD_SCALE < float("inf"):  # also refuses nan, which compares false
    raise ImproperlyConfigured(f"JOB_PERIOD_SCALE={_job_period_scale!r} must be a finite number greater than 0.")
JOB_PERIODS: dict[str, float] = {
    name: seconds * JOB_PERIOD_SCALE
    for name, seconds in (
        ("workflows.timers", 30.0),
        ("outbox.sweep", 60.0),
        ("webhooks.sweep", 60.0),
        ("approvals.rectification_sweep", 600.0),
        ("approvals.step_deadlines", 600.0),
        ("credit.ledger_checkpoint", 600.0),
        ("workflows.supervision_sweep", 600.0),
        ("approvals.integrity_scan", 3600.0),
        ("approvals.efficiency_rollup", 3600.0),
    )
}
CELERY_BEAT_SCHEDULE = {name: {"task": name, "schedule": period} for name, period in JOB_PERIODS.items()}

LOG_LEVEL = (env_str("LOG_LEVEL", "INFO") or "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"LOG_LEVEL={LOG_LEVEL!r} is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # Django's own default config would print every record a second time through its handler.
    "loggers": {"django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False}},
}

# Human-readable names used in the layout.
SITE_TITLE = _("ReformFlow approval service")

# The statutory clock: a deadline shows yellow when at most this many working days remain.
CLOCK_YELLOW_DAYS = env_int("CLOCK_YELLOW_DAYS", 2, minimum=0)
# 行政许可法 art. 32: an application left unanswered this many working days after receipt counts as
# accepted on the day it was received.
DEEMED_ACCEPTANCE_DAYS = env_int("DEEMED_ACCEPTANCE_DAYS", 5, minimum=1)

# The warning ladder of electronic supervision (issue 13), per kind of deadline: a reminder when at
# most ``approaching_days`` working days are left, a yellow card's answer due ``reply_days`` working
# days after it, a red card's rectification ``rectify_days`` after it.
SUPERVISION_APPROACHING_DAYS = env_int("SUPERVISION_APPROACHING_DAYS", 2, minimum=0)
SUPERVISION_REPLY_DAYS = env_int("SUPERVISION_REPLY_DAYS", 3, minimum=1)
SUPERVISION_RECTIFY_DAYS = env_int("SUPERVISION_RECTIFY_DAYS", 5, minimum=1)
# How far back a sweep looks at deadlines already met or missed and done (an outage of the beat
# shorter than this loses no card); ``manage.py supervision_sweep --full`` looks at everything.
SUPERVISION_SWEEP_LOOKBACK_DAYS = env_int("SUPERVISION_SWEEP_LOOKBACK_DAYS", 7, minimum=1)
# The efficiency dashboard reads complete months from its monthly roll-up (approvals.supervision
# .rollup), rolled this many days after a month ends (a transition begun before the month's last
# midnight has committed by then); until then, and for the current month, it reads the cases.
SUPERVISION_ROLLUP_LAG_DAYS = env_int("SUPERVISION_ROLLUP_LAG_DAYS", 2, minimum=1)
SUPERVISION_LADDER: dict[str, dict[str, int]] = {
    "default": {
        "approaching_days": SUPERVISION_APPROACHING_DAYS,
        "reply_days": SUPERVISION_REPLY_DAYS,
        "rectify_days": SUPERVISION_RECTIFY_DAYS,
    },
    "case": {},
    # a review step runs a few days: a reminder the day before it is due
    "step": {"approaching_days": env_int("SUPERVISION_STEP_APPROACHING_DAYS", 1, minimum=0)},
    "opinion": {},
    "verification": {"approaching_days": env_int("SUPERVISION_VERIFICATION_APPROACHING_DAYS", 5, minimum=0)},
    "rectification": {},
    "credit_request": {},
    "policy_review": {},
    # 好差评: a callback is due within one working day, so no reminder before; the answer to its
    # yellow card is due the next working day
    "rating_callback": {"approaching_days": 0, "reply_days": 1},
    "rating_rectification": {},
}

# Credit ledger (issue 4): where checkpoints of the chain head are appended (outside the database;
# publish or copy this file elsewhere), the hash algorithm of new entries, and how many working
# days the credit office has to decide an objection or a repair request.
CREDIT_LEDGER_ANCHOR_FILE = Path(
    env_str("CREDIT_LEDGER_ANCHOR_FILE", str(BASE_DIR / "var" / "ledger-anchors.jsonl")) or ""
)
CREDIT_LEDGER_HASH_ALGORITHM = (env_str("CREDIT_LEDGER_HASH_ALGORITHM", "sha256") or "sha256").lower()
if CREDIT_LEDGER_HASH_ALGORITHM not in {"sha256", "sm3"}:
    raise ImproperlyConfigured(f"CREDIT_LEDGER_HASH_ALGORITHM={CREDIT_LEDGER_HASH_ALGORITHM!r} is not sha256 or sm3.")
CREDIT_REQUEST_DECISION_WORKING_DAYS = env_int("CREDIT_REQUEST_DECISION_WORKING_DAYS", 5, minimum=1)
# The policy office decides an eligible policy application within this many working days (a
# deadline on the warning ladder: reminder, yellow and red card addressed to the policy office).
POLICY_REVIEW_WORKING_DAYS = env_int("POLICY_REVIEW_WORKING_DAYS", 10, minimum=1)
# Largest material file an applicant may upload (PDF, PNG or JPEG, recognised by content).
MATERIAL_MAX_BYTES = env_int("MATERIAL_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)


# Integrity supervision (廉政监管, approvals.supervision.integrity): the rules' thresholds. Periods are
# fixed windows of whole calendar months (1, 2, 3, 4, 6 or 12); office hours are Asia/Shanghai.
INTEGRITY_PERIOD_MONTHS = env_int("INTEGRITY_PERIOD_MONTHS", 1, minimum=1)
if INTEGRITY_PERIOD_MONTHS not in (1, 2, 3, 4, 6, 12):
    raise ImproperlyConfigured(f"INTEGRITY_PERIOD_MONTHS={INTEGRITY_PERIOD_MONTHS} is not 1, 2, 3, 4, 6 or 12.")
INTEGRITY_SAME_ENTERPRISE_MAX = env_int("INTEGRITY_SAME_ENTERPRISE_MAX", 3, minimum=1)
INTEGRITY_FAST_SHARE_PERCENT = env_int("INTEGRITY_FAST_SHARE_PERCENT", 25, minimum=1)
if INTEGRITY_FAST_SHARE_PERCENT >= 100:
    raise ImproperlyConfigured(f"INTEGRITY_FAST_SHARE_PERCENT={INTEGRITY_FAST_SHARE_PERCENT} must be below 100.")
INTEGRITY_FAST_MIN_SAMPLE = env_int("INTEGRITY_FAST_MIN_SAMPLE", 5, minimum=1)
INTEGRITY_FAST_BASELINE_MONTHS = env_int("INTEGRITY_FAST_BASELINE_MONTHS", 12, minimum=1)
INTEGRITY_PEER_FACTOR_PERCENT = env_int("INTEGRITY_PEER_FACTOR_PERCENT", 300, minimum=101)
INTEGRITY_PEER_MIN_COUNT = env_int("INTEGRITY_PEER_MIN_COUNT", 3, minimum=1)


def _office_time(name: str, default: str) -> str:
    value = env_str(name, default) or default
    hours, _colon, minutes = value.partition(":")
    if not (_colon and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ImproperlyConfigured(f"{name}={value!r} is not a time of day as HH:MM.")
    if not (0 <= int(hours) <= 23 and 0 <= int(minutes) <= 59):
        raise ImproperlyConfigured(f"{name}={value!r} is not a time of day as HH:MM.")
    return f"{int(hours):02d}:{minutes}"


INTEGRITY_OFFICE_START = _office_time("INTEGRITY_OFFICE_START", "08:30")
INTEGRITY_OFFICE_END = _office_time("INTEGRITY_OFFICE_END", "17:30")
if not INTEGRITY_OFFICE_START < INTEGRITY_OFFICE_END:
    raise ImproperlyConfigured("INTEGRITY_OFFICE_END must be later than INTEGRITY_OFFICE_START.")


# --- the REST API (issue 14): /api/v1/ ------------------------------------------------------------
# Every refusal in one shape (web.api.errors), every list by cursor (web.api.pagination), JSON only.
# Authentication and permissions are set per endpoint; the defaults refuse.
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "web.api.errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "web.api.pagination.Cursor",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser", "rest_framework.parsers.MultiPartParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ReformFlow API",
    "DESCRIPTION": "Applications, queues, credit and policies of the approval service bureau.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Swagger UI from our own static files (drf-spectacular-sidecar), no CDN
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- the API's public and enterprise resources (issue 14): personal access tokens, throttles ----
# A personal access token lives at most API_TOKEN_MAX_DAYS days (its owner picks the day). Each
# token has its own request budget (web.api.tokens.TokenRateThrottle), anonymous callers of the
# public resources share one per address; rates are DRF's "<n>/<second|minute|hour|day>".
API_TOKEN_MAX_DAYS = env_int("API_TOKEN_MAX_DAYS", 365, minimum=1)
# How long a submission with an Idempotency-Key may run before a retry may take the key over
# (the first request is then presumed dead: a crashed worker never finishes its record).
API_IDEMPOTENCY_LEASE_SECONDS = env_int("API_IDEMPOTENCY_LEASE_SECONDS", 120, minimum=5)
_API_THROTTLE_RATES: dict[str, Any] = {
    "api_token": env_str("API_TOKEN_RATE", "1000/hour"),
    "api_anon": env_str("API_ANON_RATE", "600/hour"),
}
for _name, _rate in _API_THROTTLE_RATES.items():
    _count, _slash, _period = str(_rate).partition("/")
    if not (_count.isdigit() and _slash and _period[:1] in {"s", "m", "h", "d"}):
        raise ImproperlyConfigured(f"The throttle rate {_rate!r} is not <number>/<second|minute|hour|day>.")
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {**REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}), **_API_THROTTLE_RATES}
# Choice sets that share a field name ("status") get a name of their own in the schema.
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    **SPECTACULAR_SETTINGS.get("ENUM_NAME_OVERRIDES", {}),
    "ApplicationStatusEnum": "approvals.applications.models.Application.Status",
    "CampaignStatusEnum": "approvals.supervision.models.Campaign.Status",
    "InspectionTaskStatusEnum": "approvals.supervision.models.InspectionTask.Status",
    "CreditGradeEnum": "credit.ledger.scoring.GRADES",
    "StepKindEnum": "approvals.applications.models.Step.Kind",
    "WrittenNoticeKindEnum": "approvals.applications.models.WrittenNotice.Kind",
    "PolicyKindEnum": "credit.policies.models.PolicyKind",
    "PolicyApplicationStatusEnum": "credit.policies.models.ApplicationStatus",
}


# --- single sign-on through the province's identity service (统一身份认证, issue 14) --------------
# OpenID Connect, authorisation-code flow with PKCE, through mozilla-django-oidc (web.accounts.oidc).
# Off unless OIDC_RP_CLIENT_ID is set: then the log-in page shows no SSO button and every
# /accounts/oidc/ address answers 404. Local passwords keep working either way.
#   OIDC_RP_CLIENT_ID, OIDC_RP_CLIENT_SECRET  the client registered at the provider (both or neither);
#       its redirect URI is https://<this site>/accounts/oidc/callback/.
#   OIDC_OP_DISCOVERY_URL  the provider's /.well-known/openid-configuration (or its issuer URL, to
#       which that path is added). Read on the first sign-on and cached for an hour, never at start-up,
#       so the site starts while the provider is down. The endpoints below override what it says.
#   OIDC_OP_ISSUER  the issuer an ID token must name (default: the discovery document's).
#   OIDC_OP_AUTHORIZATION_ENDPOINT, OIDC_OP_TOKEN_ENDPOINT, OIDC_OP_USER_ENDPOINT,
#   OIDC_OP_JWKS_ENDPOINT  the endpoints, when the provider publishes no discovery document (then
#       all four and OIDC_OP_ISSUER are required); OIDC_OP_LOGOUT_ENDPOINT its end-session endpoint (optional: signing
#       out then also ends the provider's session).
#   OIDC_RP_SIGN_ALGO  the ID token's signature algorithm, asymmetric only, keys from the JWKS
#       (default RS256). OIDC_RP_SCOPES (default "openid profile"). OIDC_TIMEOUT seconds (default 10).
#   SSO_CLAIM_USCC, SSO_CLAIM_NAME  the claims naming an enterprise's USCC and its legal
#       representative (default "uscc", "name"); SSO_CLAIM_EMPLOYEE_ID a staff member's employee id
#       (default "employee_id"). The mapping: approvals.organisation.sso.
# Every URL must be https, except on a loopback host (a provider on this machine, the tests).
def _oidc_url(name: str) -> str:
    value = env_str(name, "") or ""
    if value:
        parts = urlsplit(value)
        loopback = parts.hostname in {"127.0.0.1", "localhost", "::1"}
        if not parts.hostname or not (parts.scheme == "https" or (parts.scheme == "http" and loopback)):
            raise ImproperlyConfigured(f"{name}={value!r} is not an https URL (http only on a loopback host).")
    return value


OIDC_RP_CLIENT_ID = env_str("OIDC_RP_CLIENT_ID", "") or ""
OIDC_RP_CLIENT_SECRET = env_str("OIDC_RP_CLIENT_SECRET", "") or ""
if bool(OIDC_RP_CLIENT_ID) != bool(OIDC_RP_CLIENT_SECRET):
    raise ImproperlyConfigured("OIDC_RP_CLIENT_ID and OIDC_RP_CLIENT_SECRET are set together (see README.md).")
SSO_ENABLED = bool(OIDC_RP_CLIENT_ID)
OIDC_OP_DISCOVERY_URL = _oidc_url("OIDC_OP_DISCOVERY_URL")
OIDC_OP_ISSUER = env_str("OIDC_OP_ISSUER", "") or ""
OIDC_OP_AUTHORIZATION_ENDPOINT = _oidc_url("OIDC_OP_AUTHORIZATION_ENDPOINT")
OIDC_OP_TOKEN_ENDPOINT = _oidc_url("OIDC_OP_TOKEN_ENDPOINT")
OIDC_OP_USER_ENDPOINT = _oidc_url("OIDC_OP_USER_ENDPOINT")
OIDC_OP_JWKS_ENDPOINT = _oidc_url("OIDC_OP_JWKS_ENDPOINT")
OIDC_OP_LOGOUT_ENDPOINT = _oidc_url("OIDC_OP_LOGOUT_ENDPOINT")
if SSO_ENABLED and not OIDC_OP_DISCOVERY_URL:
    _missing = [
        name
        for name in (
            "OIDC_OP_ISSUER",
            "OIDC_OP_AUTHORIZATION_ENDPOINT",
            "OIDC_OP_TOKEN_ENDPOINT",
            "OIDC_OP_USER_ENDPOINT",
            "OIDC_OP_JWKS_ENDPOINT",
        )
        if not globals()[name]
    ]
    if _missing:
        raise ImproperlyConfigured(
            "Single sign-on needs OIDC_OP_DISCOVERY_URL or every endpoint; missing: " + ", ".join(_missing)
        )
OIDC_RP_SIGN_ALGO = (env_str("OIDC_RP_SIGN_ALGO", "RS256") or "RS256").upper()
if OIDC_RP_SIGN_ALGO not in {"RS256", "RS384", "RS512", "PS256", "ES256", "ES384"}:
    # HS256 would verify the ID token with the client secret, which the provider's JWKS cannot vouch for.
    raise ImproperlyConfigured(f"OIDC_RP_SIGN_ALGO={OIDC_RP_SIGN_ALGO!r} is not an asymmetric JWS algorithm.")
OIDC_RP_SCOPES = env_str("OIDC_RP_SCOPES", "openid profile") or "openid profile"
if "openid" not in OIDC_RP_SCOPES.split():
    raise ImproperlyConfigured(f"OIDC_RP_SCOPES={OIDC_RP_SCOPES!r} must include openid.")
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT", 10, minimum=1)
SSO_CLAIM_USCC = env_str("SSO_CLAIM_USCC", "uscc") or "uscc"
SSO_CLAIM_NAME = env_str("SSO_CLAIM_NAME", "name") or "name"
SSO_CLAIM_EMPLOYEE_ID = env_str("SSO_CLAIM_EMPLOYEE_ID", "employee_id") or "employee_id"
# mozilla-django-oidc's own knobs, fixed: PKCE and a nonce on every request, the ID token kept in
# the session for the provider's end-session call, the callback by our URL name. (Accounts are
# never made by the library: web.accounts.oidc hands the claims to approvals.organisation.sso.)
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_STORE_ID_TOKEN = True
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_callback"
# --- system accounts of other authorities (issue 14): OAuth2 client credentials ------------------
# django-oauth-toolkit issues the tokens at /oauth/token/; a token carries only scopes its system
# account holds (core.system_accounts.scopes), and web.api.oauth re-checks them on every call.
# Named although it is the default: a migration that points at the client model needs the setting.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER = {
    "SCOPES": {
        "credit:import": "Import records of the authority into the credit ledger",
        "credit:grade": "Look up an enterprise's credit grade for an authorised purpose",
    },
    "DEFAULT_SCOPES": [],
    "SCOPES_BACKEND_CLASS": "core.system_accounts.scopes.SystemAccountScopes",
    "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("API_CLIENT_TOKEN_SECONDS", 3600, minimum=60),
    # OAuth 2.0 Security BCP (RFC 9700): only the client-credentials grant is used; everything the
    # BCP discourages is off, tokens are stored as hashes, redirect URIs (unused) must be https
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}
# Requests per client (every token of one system account counts together), in DRF's rate syntax.
API_SYSTEM_CLIENT_RATE = env_str("API_SYSTEM_CLIENT_RATE", "600/minute") or ""
if not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", API_SYSTEM_CLIENT_RATE):
    raise ImproperlyConfigured(f"API_SYSTEM_CLIENT_RATE={API_SYSTEM_CLIENT_RATE!r} is not a rate like 600/minute.")
# Records in one import batch: a larger batch is refused whole (split it).
API_IMPORT_MAX_RECORDS = env_int("API_IMPORT_MAX_RECORDS", 1000, minimum=1)
