from django.contrib import admin
from django.urls import include, path

from chat.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("chat.account_urls")),
    path("", include("chat.urls")),
]
