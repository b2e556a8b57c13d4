from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _remember_language(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Notices reach a user in the language they last signed in with."""
    from django.utils import translation

    language = translation.get_language_from_request(request) if request is not None else None
    if language and getattr(user, "language", None) != language:
        type(user).objects.filter(pk=user.pk).update(language=language)
        user.language = language


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Accounts and audit")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        user_logged_in.connect(_remember_language, dispatch_uid="core_remember_language")
