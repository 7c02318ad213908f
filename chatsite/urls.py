from django.contrib import admin
from django.urls import include, path

from chat.web.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    # The OpenAI-compatible API, at the path OpenAI's clients expect under a base URL.
    path("v1/", include("chat.api.urls")),
    path("accounts/", include("chat.web.account_urls")),
    path("accounts/", include("chat.sso.urls")),
    path("", include("chat.web.urls")),
]

# A page asked for while the database is down answers 503 "try again", not a 500.
handler500 = "chat.web.error_pages.server_error"
