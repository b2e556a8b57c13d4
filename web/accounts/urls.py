"""Signing in and out, the password, registering an enterprise (mounted at ``accounts/``)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from web.accounts import oidc, views

urlpatterns = [
    path("login/", oidc.LoginView.as_view(), name="login"),
    path("logout/", oidc.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(template_name="accounts/password_change_form.html"),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="accounts/password_change_done.html"),
        name="password_change_done",
    ),
    path("register/", views.register, name="register"),
    # Single sign-on (web.accounts.oidc): 404 unless settings.SSO_ENABLED. The provider redirects
    # back to oidc/callback/, the address to register with it.
    path("oidc/authenticate/", oidc.SSOAuthenticateView.as_view(), name="oidc_authenticate"),
    path("oidc/callback/", oidc.SSOCallbackView.as_view(), name="oidc_callback"),
]
