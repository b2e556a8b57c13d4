from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from approvals import campaign_urls
from approvals import urls as approvals_urls
from approvals import views as approvals_views
from config.converters import bound_int_converters
from credit import views as credit_views
from workflows import policy_urls
from workflows import urls as workflow_urls
from workflows.frontend import staff_site

admin.site.site_header = _("ReformFlow administration")
admin.site.site_title = _("ReformFlow administration")
admin.site.index_title = _("Catalogue, organisation and accounts")

urlpatterns = [
    path("", approvals_views.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/register/", credit_views.register, name="register"),
    path("portal/policies/", include(policy_urls.portal_patterns)),
    path("portal/", include(workflow_urls.portal_patterns)),
    path("portal/", include("credit.urls")),
    path("workbench/campaigns/", include(campaign_urls.staff_patterns)),
    path("workbench/", include(workflow_urls.workbench_patterns)),
    path("workbench/inspections/", include(workflow_urls.supervision_patterns)),
    path("", include(approvals_urls.public_patterns)),
    path("", include(workflow_urls.file_patterns)),
    path("audit/credit/", include("credit.audit_urls")),
    path("audit/eligibility/", include(policy_urls.audit_patterns)),
    path("audit/campaigns/", include(campaign_urls.audit_patterns)),
    path("audit/", include(approvals_urls.audit_patterns)),
    path("inspections/", include(campaign_urls.public_patterns)),
    path("credit-office/", include("credit.office_urls")),
    path("policy-office/", include(policy_urls.office_patterns)),
    path("", include("workflows.credit_views")),
    path("admin/", admin.site.urls),
    # viewflow's frontend for staff (process lists, details, charts), narrowed per department.
    path("staff/", staff_site().urls),
]

# MEDIA_ROOT is never served as a directory: uploaded documents are private and go out only
# through views that check who is asking.

# Last, on the finished tree: an id beyond the database's integer range is a 404, not a 500 from the
# driver, on every route, ours, the admin's and viewflow's (config/converters.py).
bound_int_converters(urlpatterns)
