"""The enterprise user's in-site messages (the message centre, ``web.inbox``) on the API: the list,
newest first (``?unread=true`` for the unread ones), one message, and marking one read. Reading a
message here writes nothing (a GET); marking it read is its own POST (``site_message_read``).

Only the recipient reads a message. A token narrowed to one enterprise does not show the messages
about another enterprise's application, policy application or credit record."""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from approvals.models import Application
from core.api.models import AccessToken
from core.outbox import selectors as outbox_selectors
from core.outbox import services as outbox_services
from core.outbox.models import SiteMessage
from credit.policies.models import PolicyApplication
from web.api.v1.enterprise.scope import EnterpriseView, service
from web.inbox.views import object_link

TAGS = ["enterprise: messages"]
ERRORS = {
    401: OpenApiResponse(description="No credentials, or an unknown, expired or revoked token."),
    403: OpenApiResponse(description="Not an enterprise user, or a read-only token writing."),
    404: OpenApiResponse(description="No such message of the caller's."),
}


class SiteMessageSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    title = serializers.CharField()
    body = serializers.CharField()
    object_type = serializers.CharField(help_text="What the message is about (`approvals.application` …), or empty.")
    object_id = serializers.CharField()
    link = serializers.SerializerMethodField(help_text="The portal page of what it is about, if any.")
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)

    def get_link(self, message: SiteMessage) -> str | None:
        return object_link(message, user_kind="enterprise")


def _as_text(queryset: QuerySet[Any], field: str = "pk") -> QuerySet[Any]:
    texts: QuerySet[Any] = queryset.annotate(as_text=Cast(field, CharField())).values("as_text")
    return texts


def messages_of(request: Request, *, unread_only: bool = False) -> QuerySet[SiteMessage]:
    """The caller's messages (``outbox_selectors.site_messages_of``); for a token narrowed to one
    enterprise, without those about the caller's other enterprises' objects."""
    messages = outbox_selectors.site_messages_of(user=request.user, unread_only=unread_only)  # type: ignore[arg-type]
    token = request.auth
    if isinstance(token, AccessToken) and token.enterprise_id is not None:
        enterprise = token.enterprise_id
        foreign = (
            (
                Q(object_type="approvals.application")
                & ~Q(object_id__in=_as_text(Application.objects.filter(enterprise_id=enterprise)))
            )
            | (
                Q(object_type="credit.policyapplication")
                & ~Q(object_id__in=_as_text(PolicyApplication.objects.filter(enterprise_id=enterprise)))
            )
            | (Q(object_type="credit.enterprise") & ~Q(object_id=str(enterprise)))
        )
        messages = messages.exclude(foreign)
    return messages


def _own_message(request: Request, pk: int) -> SiteMessage:
    message = messages_of(request).filter(pk=pk).first()
    if message is None:
        raise NotFound()
    return message


@extend_schema(tags=TAGS)
class MessageList(EnterpriseView, generics.GenericAPIView[SiteMessage]):
    serializer_class = SiteMessageSerializer

    def get_queryset(self) -> QuerySet[SiteMessage]:
        unread = self.request.query_params.get("unread", "")
        if unread not in ("", "true", "false"):
            raise ValidationError({"unread": [_("true or false.")]})
        return messages_of(self.request, unread_only=unread == "true")

    @extend_schema(
        summary="The caller's in-site messages, newest first",
        parameters=[OpenApiParameter("unread", bool, description="true: only the unread ones.")],
        responses={
            200: SiteMessageSerializer(many=True),
            400: OpenApiResponse(description="`invalid` filter."),
            **{k: v for k, v in ERRORS.items() if k != 404},
        },
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(SiteMessageSerializer(page, many=True).data)


@extend_schema(tags=TAGS)
class MessageDetail(EnterpriseView):
    @extend_schema(
        summary="One message (reading it here does not mark it read)",
        responses={200: SiteMessageSerializer, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(SiteMessageSerializer(_own_message(request, pk)).data)


@extend_schema(tags=TAGS)
class MessageRead(EnterpriseView):
    @extend_schema(
        summary="Mark a message read (the first reading counts)",
        request=None,
        responses={200: SiteMessageSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        message = _own_message(request, pk)
        read = service(
            lambda: outbox_services.site_message_read(user=request.user, site_message=message)  # type: ignore[arg-type]
        )
        return Response(SiteMessageSerializer(read).data)
