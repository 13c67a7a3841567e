"""Site URLs: the admin, sign-in, the home page and the apps' pages.

The error handlers answer JSON under /api/ and Django's pages elsewhere (portal.api.conventions)."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import two_factor, views
from .login_throttle import ThrottledAuthenticationForm

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=ThrottledAuthenticationForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/two-factor/", two_factor.setup, name="two_factor_setup"),
    path("accounts/two-factor/verify/", two_factor.verify, name="two_factor_verify"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("agreements/", include("portal.pages.urls")),
    path("alerts/", include("portal.pages.alert_urls")),
    path("syndicate/", include("portal.pages.syndicate_urls")),
    path("execution/", include("portal.pages.execution_urls")),
    path("api/", include("portal.api.urls")),
    path("admin/", admin.site.urls),
    path("favicon.ico", views.favicon, name="favicon"),
]

handler400 = "portal.api.conventions.bad_request"
handler403 = "portal.api.conventions.permission_denied"
handler404 = "portal.api.conventions.page_not_found"
handler500 = "portal.api.conventions.server_error"
