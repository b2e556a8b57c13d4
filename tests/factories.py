"""factory_boy factories, one trait per lifecycle state."""

from __future__ import annotations

import datetime
import functools
import itertools
from typing import Any

import factory
from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.utils import timezone

from approvals.calendar import services as calendar_services
from approvals.models import CalendarYear, Department, Jurisdiction
from approvals.organisation import services as org_services
from core.models import User
from core.uploads import minimal_pdf
from credit.enterprises.uscc import uscc_with_check_digit
from credit.models import Enterprise, Membership

PASSWORD = "correct-horse-battery-staple"  # noqa: S105
PDF_BYTES = minimal_pdf()

_uscc_counter = itertools.count(1)


@functools.cache
def _password_hash() -> str:
    # Argon2 is slow on purpose; hash the shared test password once per run.
    return make_password(PASSWORD)


def next_uscc() -> str:
    return uscc_with_check_digit(f"9121010{next(_uscc_counter):010d}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Faker("name", locale="zh_CN")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.invalid")
    kind = User.Kind.ENTERPRISE
    password = factory.LazyFunction(lambda: _password_hash())

    class Params:
        staff = factory.Trait(kind=User.Kind.STAFF, username=factory.Sequence(lambda n: f"staff{n}"))


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enterprise

    uscc = factory.LazyFunction(next_uscc)
    name = factory.Sequence(lambda n: f"测试企业{n}有限公司")
    legal_representative = factory.Faker("name", locale="zh_CN")


class MembershipFactory(factory.django.DjangoModelFactory):
    """A pending legal-representative membership; traits give the other states."""

    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    enterprise = factory.SubFactory(EnterpriseFactory)
    role = Membership.Role.LEGAL_REPRESENTATIVE
    status = Membership.Status.PENDING

    class Params:
        confirmed = factory.Trait(status=Membership.Status.CONFIRMED, decided_at=factory.LazyFunction(timezone.now))
        rejected = factory.Trait(status=Membership.Status.REJECTED, decided_at=factory.LazyFunction(timezone.now))
        agent = factory.Trait(
            role=Membership.Role.AGENT,
            authorisation_document=factory.LazyFunction(lambda: ContentFile(PDF_BYTES, name="authorisation.pdf")),
            valid_from=factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=10)),
            valid_until=factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=100)),
        )
        expired = factory.Trait(
            valid_from=factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=400)),
            valid_until=factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=1)),
        )


class JurisdictionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Jurisdiction
        django_get_or_create = ("code",)

    code = "SY"
    name = "沈阳市"
    level = Jurisdiction.Level.CITY


def bureau() -> Department:
    existing = Department.objects.filter(code="BUREAU").first()
    return existing or org_services.department_create(
        actor=None, code="BUREAU", name="行政审批局", kind="bureau", jurisdiction=JurisdictionFactory()
    )


_department_counter = itertools.count(1)


def department(name: str | None = None) -> Department:
    number = next(_department_counter)
    parent = bureau()
    return org_services.department_create(
        actor=None,
        code=f"D{number}",
        name=name or f"审批处{number}",
        kind="department",
        jurisdiction=parent.jurisdiction,
        parent=parent,
    )


def staff_with_role(role: str, department: Department | None = None, **user_kwargs: object) -> User:
    user = UserFactory(staff=True, **user_kwargs)
    org_services.staff_role_grant(actor=None, user=user, role=role, department=department)
    return User.objects.get(pk=user.pk)  # fresh object: no stale permission cache


def calendar_published(years: tuple[int, ...] = (2025, 2026, 2027)) -> None:
    """The bureau's working-day calendar for ``years`` (from the chinese-calendar package where it
    covers the year, Monday–Friday entered by hand where it does not), as an administrator would."""
    available = calendar_services.calendar_years_from_package(years)
    for year in years:
        if not CalendarYear.objects.filter(year=year).exists():
            calendar_services.calendar_year_publish(
                actor=None, year=year, days=available.get(year, []), source=CalendarYear.Source.MANUAL
            )


def extension_granted(*, requester: User, application: Any, days: int, reason: str) -> Any:
    """An art. 42 extension asked for by ``requester`` and approved by a head of the bureau."""
    from approvals.applications import services as application_services
    from approvals.organisation.roles import StaffRole

    head = staff_with_role(StaffRole.BUREAU_HEAD)
    request = application_services.application_extension_request(
        actor=requester, application=application, days=days, reason=reason
    )
    return application_services.application_extension_decide(actor=head, request=request, approve=True)
