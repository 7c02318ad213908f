"""Under /accounts/: the sign-in with a provider, and the pages allauth redirects to."""

from allauth.socialaccount import views as social_views
from django.urls import path

from chat.sso import views

urlpatterns = [
    # A POST here (the login page's button) sends the browser to the provider.
    path("oidc/<str:provider_id>/login/", views.login, name="openid_connect_login"),
    # The redirect URI to register at the provider.
    path("oidc/<str:provider_id>/login/callback/", views.callback, name="openid_connect_callback"),
    path("oidc/cancelled/", social_views.login_cancelled, name="socialaccount_login_cancelled"),
    path("oidc/error/", social_views.login_error, name="socialaccount_login_error"),
    path("oidc/signup/", views.signup_refused, name="socialaccount_signup"),
]
