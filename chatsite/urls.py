from django.contrib import admin
from django.urls import include, path

from chat.web.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("chat.web.account_urls")),
    path("accounts/", include("chat.sso.urls")),
    path("", include("chat.web.urls")),
]

# A page asked for while the database is down answers 503 "try again", not a 500.
handler500 = "chat.web.error_pages.server_error"
