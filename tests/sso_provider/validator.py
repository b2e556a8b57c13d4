"""The claims of the stand-in provider's users: read from a JSON file ``{username: {claim: value}}``
that the test writes, so that a test can give a person any USCC, name or employee id."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from oauth2_provider.oauth2_validators import OAuth2Validator


class ClaimsValidator(OAuth2Validator):
    # Every claim of the user goes into the ID token and userinfo, not only the standard ones
    # that django-oauth-toolkit maps to scopes.
    oidc_claim_scope = None

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        claims = json.loads(Path(settings.SSO_PROVIDER_CLAIMS_FILE).read_text(encoding="utf-8"))
        return dict(claims.get(request.user.get_username(), {}))
