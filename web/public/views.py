"""Pages anyone may open without signing in: home, the catalogue of approval items with each item's service guide, and certificate verification (with its QR code)."""

from __future__ import annotations

import io

import segno
from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from approvals.applications import selectors as application_selectors
from approvals.catalogue import selectors as catalogue_selectors
from approvals.models import ApprovalItemVersion, Certificate, Department, WrittenNotice
from core.db_routing import replica_reads

PAGE_SIZE = 25


@replica_reads
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return render(request, "public/home.html")
    if user.is_enterprise_user:
        return redirect("portal:home")
    return redirect("workbench:home")


@replica_reads
def service_list(request: HttpRequest) -> HttpResponse:
    """The published approval list (清单), searchable by department and keyword; no login."""
    query = request.GET.get("q", "").strip()[:100]
    department_raw = request.GET.get("department", "")
    department_id = int(department_raw) if department_raw.isdigit() else None
    versions = catalogue_selectors.items_published(department_id=department_id, query=query)
    page = Paginator(versions, PAGE_SIZE).get_page(request.GET.get("page"))
    departments = Department.objects.filter(is_active=True, kind=Department.Kind.DEPARTMENT).order_by("code")
    context = {"page": page, "q": query, "department_id": department_id, "departments": departments}
    return render(request, "public/service_list.html", context)


@replica_reads
def service_guide(request: HttpRequest, code: str) -> HttpResponse:
    """The service guide (办事指南) of one item's published version."""
    version = (
        ApprovalItemVersion.objects.filter(item__code=code, status=ApprovalItemVersion.Status.PUBLISHED)
        .select_related("item", "lead_department", "desk_department", "supervising_department")
        .first()
    )
    if version is None:
        raise Http404
    context = {
        "version": version,
        "materials": version.materials.all(),
        "co_review": version.co_review_departments.order_by("code"),
    }
    return render(request, "public/service_guide.html", context)


@replica_reads
def certificate_verify(request: HttpRequest, code: str | None = None) -> HttpResponse:
    """Public verification (no login): valid / revoked / expired, and nothing private."""
    number = request.GET.get("number", "").strip()[:64]
    certificate = None
    looked_up = False
    if code is not None:
        certificate = Certificate.objects.select_related("issuer").filter(verification_code=code).first()
        looked_up = True
        if certificate is None:
            raise Http404
    elif number:
        certificate = Certificate.objects.select_related("issuer").filter(number=number.upper()).first()
        looked_up = True
    state = application_selectors.certificate_state(certificate) if certificate is not None else None
    context = {"certificate": certificate, "state": state, "number": number, "looked_up": looked_up}
    return render(request, "public/certificate_verify.html", context, status=200)


@replica_reads
def certificate_qr(request: HttpRequest, code: str) -> HttpResponse:
    """An SVG QR code pointing at the public verification page of a certificate."""
    if not Certificate.objects.filter(verification_code=code).exists():
        raise Http404
    url = request.build_absolute_uri(reverse("certificate_verify_code", args=[code]))
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=4, border=2)
    return HttpResponse(buffer.getvalue(), content_type="image/svg+xml")


@replica_reads
@require_GET
def notice_verify(request: HttpRequest, number: str) -> HttpResponse:
    """Public check of a written notice (its QR code points here): that the number was issued, its
    kind and day, and the SHA-256 of the file, so that a holder can check their copy. Nothing of
    the applicant's."""
    notice = WrittenNotice.objects.filter(number=number[:40]).first()
    if notice is None:
        raise Http404
    context = {"notice": notice, "bureau": settings.NOTICE_BUREAU_NAME}
    return render(request, "public/notice_verify.html", context)
