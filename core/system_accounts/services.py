"""Writes of system accounts: registering a client of another authority and changing what it may
do. Each is one transaction with its audit event."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils.crypto import get_random_string
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_application_model
from oauth2_provider.settings import oauth2_settings

from core.exceptions import DomainError
from core.models import User
from core.services import audit_event_record
from core.system_accounts.models import AuthorityKind, SystemAccount


class SystemAccountError(DomainError):
    pass


@dataclass(frozen=True)
class Registered:
    account: SystemAccount
    client_id: str
    client_secret: str  # shown once: the database keeps only its hash


def known_scopes() -> dict[str, str]:
    """Every scope a system account can be given (``OAUTH2_PROVIDER["SCOPES"]``)."""
    return dict(oauth2_settings.SCOPES)


def _clean(*, authority: str, authority_kind: str, scopes: Iterable[str]) -> tuple[str, list[str]]:
    authority = (authority or "").strip()
    if not authority:
        raise SystemAccountError("authority_required", _("Name the authority the system speaks for."))
    if len(authority) > 200:
        raise SystemAccountError("authority_too_long", _("The authority's name is longer than 200 characters."))
    if authority_kind not in AuthorityKind.values:
        raise SystemAccountError("authority_kind_unknown", _("Choose the kind of authority."))
    chosen = sorted(set(scopes))
    unknown = [scope for scope in chosen if scope not in known_scopes()]
    if unknown:
        raise SystemAccountError("scope_unknown", _("Unknown scope: %(scopes)s.") % {"scopes": ", ".join(unknown)})
    return authority, chosen


def system_account_register(
    *,
    actor: User | None,
    name: str,
    authority: str,
    authority_kind: str,
    scopes: Iterable[str],
    client_secret: str | None = None,
) -> Registered:
    """Register the system of another authority: a service-account user (no password, never a
    screen), a confidential OAuth2 client with the client-credentials grant, and the account that
    binds them to ``authority`` and ``scopes``. The secret is returned once; only its hash is kept.

    Errors: ``name_required``, ``authority_required``, ``authority_too_long``,
    ``authority_kind_unknown``, ``scope_unknown``. ``client_secret`` is for the demo only (its
    published secret, like its published password); otherwise one is generated.
    """
    name = (name or "").strip()
    if not name:
        raise SystemAccountError("name_required", _("Name the system."))
    authority, chosen = _clean(authority=authority, authority_kind=authority_kind, scopes=scopes)
    secret = client_secret or generate_client_secret()
    application_model = get_application_model()
    with transaction.atomic():
        # The user name only has to be unique and recognisable: the slug of the system's name and
        # a random tail (two systems may bear one name).
        username = f"system-{slugify(name)[:40] or 'client'}-{get_random_string(6).lower()}"
        user = User(username=username, kind=User.Kind.SYSTEM, display_name=name[:100])
        user.set_unusable_password()
        user.save()
        application = application_model(
            name=name[:255],
            user=user,
            client_type=application_model.CLIENT_CONFIDENTIAL,
            authorization_grant_type=application_model.GRANT_CLIENT_CREDENTIALS,
            client_secret=secret,
            redirect_uris="",
        )
        application.save()
        account = SystemAccount.objects.create(
            application=application, user=user, authority=authority, authority_kind=authority_kind, scopes=chosen
        )
        audit_event_record(
            actor=actor,
            action="system_account.registered",
            obj=account,
            data={"client_id": application.client_id, "authority": authority, "scopes": chosen},
        )
    return Registered(account=account, client_id=application.client_id, client_secret=secret)


def system_account_update(
    *,
    actor: User | None,
    account: SystemAccount,
    authority: str,
    authority_kind: str,
    scopes: Iterable[str],
    is_active: bool,
) -> SystemAccount:
    """Change what a system account speaks for and may do. Takes effect on the next call: the
    API re-reads the account's scopes on every request, so a withdrawn scope or a deactivated
    account stops tokens already issued. Errors: those of ``system_account_register`` but
    ``name_required``."""
    authority, chosen = _clean(authority=authority, authority_kind=authority_kind, scopes=scopes)
    with transaction.atomic():
        locked = SystemAccount.objects.select_for_update().get(pk=account.pk)
        before = {"authority": locked.authority, "scopes": locked.scopes, "is_active": locked.is_active}
        locked.authority = authority
        locked.authority_kind = authority_kind
        locked.scopes = chosen
        locked.is_active = is_active
        locked.full_clean()
        locked.save()
        if not is_active:
            User.objects.filter(pk=locked.user_id).update(is_active=False)
        elif not before["is_active"]:
            User.objects.filter(pk=locked.user_id).update(is_active=True)
        audit_event_record(
            actor=actor,
            action="system_account.changed",
            obj=locked,
            data={"before": before, "after": {"authority": authority, "scopes": chosen, "is_active": is_active}},
        )
    return locked
