from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from config.converters import bound_int_converters
from web.api.oauth import token_patterns
from web.staff.site import staff_site

admin.site.site_header = _("ReformFlow administration")
admin.site.site_title = _("ReformFlow administration")
admin.site.index_title = _("Catalogue, organisation and accounts")

# One include per audience (web/<audience>/urls.py), then the admin and viewflow's staff frontend.
urlpatterns = [
    path("", include("web.public.urls")),
    path("portal/", include("web.portal.urls")),
    path("workbench/", include("web.workbench.urls")),
    path("credit-office/", include("web.credit_office.urls")),
    path("policy-office/", include("web.policy_office.urls")),
    path("audit/", include("web.audit.urls")),
    path("api/v1/", include("web.api.v1.urls")),
    # OAuth2 client credentials for the systems of other authorities: the token endpoint only
    path("oauth/", include((token_patterns, "oauth2_provider"))),
    path("admin/", admin.site.urls),
    # viewflow's frontend for staff (process lists, details, charts), narrowed per department.
    path("staff/", staff_site().urls),
]

# MEDIA_ROOT is never served as a directory: uploaded documents are private and go out only
# through views that check who is asking.

# Last, on the finished tree: an id beyond the database's integer range is a 404, not a 500 from the
# driver, on every route, ours, the admin's and viewflow's (config/converters.py).
bound_int_converters(urlpatterns)
