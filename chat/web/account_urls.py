from django.contrib.auth import views as auth_views
from django.urls import path

from chat.web import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signup/", views.signup, name="signup"),
    # Django's own views: a reset link by email (the same answer whether or not the address
    # is known), single-use and signed, and a change of password for a signed-in user.
    path(
        "password/reset/",
        views.password_reset_enabled(auth_views.PasswordResetView.as_view()),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        views.password_reset_enabled(auth_views.PasswordResetDoneView.as_view()),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        views.password_reset_enabled(auth_views.PasswordResetConfirmView.as_view()),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        views.password_reset_enabled(auth_views.PasswordResetCompleteView.as_view()),
        name="password_reset_complete",
    ),
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]
