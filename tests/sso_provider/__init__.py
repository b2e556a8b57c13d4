"""A small OpenID Connect provider for the single sign-on tests (tests/web/accounts/test_sso.py).

A Django project of its own — django-oauth-toolkit with OIDC on, its own settings and SQLite file —
run in a separate process on 127.0.0.1 by ``serve.py``, standing in for the province's identity
service. Never part of the site: the site's INSTALLED_APPS do not know it.
"""
