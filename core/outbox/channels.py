"""The channels a delivery goes out on. Each ``send`` is idempotent: the site channel finds the
message it made before; an e-mail carries a Message-ID derived from the outbox message, and an SMS
an idempotency key derived from it, so a resend after a lost acknowledgement is recognisable as the
same mail or SMS."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from core.outbox.kinds import notice_render
from core.outbox.models import Delivery, OutboxMessage, SiteMessage
from core.outbox.sms import sms_backend

# How an SMS joins the notice's title and text (after the bureau's signature in 【】).
SMS_TEXT = _("%(title)s: %(body)s")
ELLIPSIS = "…"


def message_id(message: OutboxMessage) -> str:
    """The stable Message-ID of the e-mail of ``message``."""
    return f"<outbox-{message.pk}@{settings.NOTICE_MAIL_DOMAIN}>"


def _site(delivery: Delivery) -> str:
    message = delivery.message
    title, body = notice_render(message.kind, message.context, message.language)
    site_message, _created = SiteMessage.objects.get_or_create(
        message=message,
        defaults={
            "recipient_id": message.recipient_id,
            "title": title[:200],
            "body": body,
            "object_type": message.object_type,
            "object_id": message.object_id,
        },
    )
    return str(site_message.pk)


def _email(delivery: Delivery) -> str:
    message = delivery.message
    recipient = message.recipient
    if not recipient.email:
        raise ValueError("the recipient has no e-mail address")
    title, body = notice_render(message.kind, message.context, message.language)
    context = {"title": title, "body": body, "recipient": recipient, "site_url": settings.NOTICE_SITE_URL}
    with translation.override(message.language):
        text = render_to_string("notices/email.txt", context)
        html = render_to_string("notices/email.html", context)
    identifier = message_id(message)
    mail = EmailMultiAlternatives(
        subject=title,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient.email],
        headers={"Message-ID": identifier},
    )
    mail.attach_alternative(html, "text/html")
    for attachment in message.context.get("attachments", []):
        mail.attach(attachment["filename"], _attachment_content(attachment), attachment["content_type"])
    mail.send(fail_silently=False)
    return identifier


def _attachment_content(attachment: dict[str, str]) -> bytes:
    """A stored document to attach, checked against the hash recorded when it was issued: a file
    that changed since is never mailed (the delivery fails and, after its retries, is dead)."""
    with default_storage.open(attachment["storage_name"], "rb") as handle:
        content: bytes = handle.read()
    if hashlib.sha256(content).hexdigest() != attachment["sha256"]:
        raise ValueError(f"{attachment['filename']} does not match its recorded SHA-256")
    return content


def sms_reference(message: OutboxMessage) -> str:
    """The stable reference of the SMS of ``message``: its idempotency key at the gateway."""
    return f"outbox-{message.pk}"


def sms_text(*, title: str, body: str, language: str) -> str:
    """The SMS of a notice: the bureau's name in 【】 first (the signature carriers require, so it
    is never cut), then title and text on one line, cut to ``SMS_MAX_CHARS`` with an ellipsis."""
    with translation.override(language):
        notice = str(SMS_TEXT) % {"title": title, "body": " ".join(body.split())}
    return _truncate(f"【{settings.NOTICE_BUREAU_NAME}】{notice}", settings.SMS_MAX_CHARS)


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def _sms(delivery: Delivery) -> str:
    """A number removed after the notice was written fails the delivery (``ValueError``) rather
    than sending nowhere; the gateway's id of the SMS is the delivery's reference."""
    message = delivery.message
    recipient = message.recipient
    if not recipient.phone:
        raise ValueError("the recipient has no mobile phone number")
    title, body = notice_render(message.kind, message.context, message.language)
    text = sms_text(title=title, body=body, language=message.language)
    return sms_backend().send(phone=recipient.phone, text=text, reference=sms_reference(message))


SENDERS: dict[str, Callable[[Delivery], str]] = {
    Delivery.Channel.SITE: _site,
    Delivery.Channel.EMAIL: _email,
    Delivery.Channel.SMS: _sms,
}
