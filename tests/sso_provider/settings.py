"""Settings of the stand-in identity provider. Everything it needs comes from the environment that
``serve.py`` sets: its SQLite file, its RSA signing key and the claims of its users."""

from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent

DEBUG = False
SECRET_KEY = "sso-provider-test-only-" + os.environ.get("SSO_PROVIDER_SECRET", "x" * 32)
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "tests.sso_provider.urls"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [HERE / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["SSO_PROVIDER_DB"]}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # a test provider: speed over strength
USE_TZ = True
LOGIN_URL = "/login/"
SESSION_COOKIE_NAME = "provider_sessionid"
CSRF_COOKIE_NAME = "provider_csrftoken"

OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": Path(os.environ["SSO_PROVIDER_KEY_FILE"]).read_text(),
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "PKCE_REQUIRED": True,
    "SCOPES": {"openid": "OpenID Connect", "profile": "Name, enterprise and employee id"},
    "OAUTH2_VALIDATOR_CLASS": "tests.sso_provider.validator.ClaimsValidator",
}
SSO_PROVIDER_CLAIMS_FILE = os.environ["SSO_PROVIDER_CLAIMS_FILE"]
