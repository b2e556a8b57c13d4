"""Run the stand-in identity provider: ``python -m tests.sso_provider.serve CONFIG.json``.

The JSON config names the files (SQLite, RSA key, claims) and what to create: the users
with their passwords and the one confidential client with its redirect URIs. The process migrates
its own database, creates them, prints ``ready <port>`` (a free port the system chose) and serves on 127.0.0.1 until
it is terminated.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002  (the stdlib's name)
        pass


def main(config_path: str) -> None:
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.sso_provider.settings"
    os.environ["SSO_PROVIDER_DB"] = config["database"]
    os.environ["SSO_PROVIDER_KEY_FILE"] = config["key_file"]
    os.environ["SSO_PROVIDER_CLAIMS_FILE"] = config["claims_file"]

    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0, interactive=False)
    for person in config["users"]:
        User.objects.create_user(username=person["username"], password=person["password"])
    client = config["client"]
    Application.objects.create(
        name="ReformFlow",
        client_id=client["id"],
        client_secret=client["secret"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(client["redirect_uris"]),
        post_logout_redirect_uris=" ".join(client["post_logout_redirect_uris"]),
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,  # consent approved at once, as a government portal does
    )
    server = make_server(
        "127.0.0.1", 0, get_wsgi_application(), server_class=_ThreadingServer, handler_class=_QuietHandler
    )
    print(f"ready {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
