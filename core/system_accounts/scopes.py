"""django-oauth-toolkit's scopes backend (``OAUTH2_PROVIDER["SCOPES_BACKEND_CLASS"]``): a token is
granted only scopes its system account holds, and by default all of them; a client that is no
active system account is granted nothing."""

from __future__ import annotations

from typing import Any

from oauth2_provider.scopes import SettingsScopes

from core.system_accounts.models import SystemAccount


class SystemAccountScopes(SettingsScopes):  # type: ignore[misc]
    def get_available_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        if application is None:
            return []
        account = SystemAccount.objects.filter(application=application, is_active=True).only("scopes").first()
        if account is None:
            return []
        known = self.get_all_scopes()
        return [scope for scope in account.scopes if scope in known]

    def get_default_scopes(self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any) -> list[str]:
        return self.get_available_scopes(application, request, *args, **kwargs)
