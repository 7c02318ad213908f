from django.urls import path

from chat import views

app_name = "chat"

urlpatterns = [
    path("", views.home, name="home"),
    path("c/<int:conversation_id>/", views.conversation_detail, name="conversation"),
    path("models/", views.models, name="models"),
    path("usage/", views.usage, name="usage"),
    path("settings/check/", views.settings_check, name="settings_check"),
    path(
        "c/<int:conversation_id>/settings/",
        views.conversation_settings_update,
        name="conversation_settings",
    ),
]
