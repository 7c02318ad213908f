from django.contrib import admin
from django.urls import include, path
from django.views.decorators.cache import cache_page
from django.views.i18n import JavaScriptCatalog

from chat.web.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    # The OpenAI-compatible API, at the path OpenAI's clients expect under a base URL.
    path("v1/", include("chat.api.urls")),
    # The language switch (Django's set_language) and the texts of the page's scripts in
    # the request's language (locale/*/LC_MESSAGES/djangojs.po).
    path("i18n/", include("django.conf.urls.i18n")),
    # The same for everyone of a language (the cache's key carries the language).
    path(
        "jsi18n/",
        cache_page(3600)(JavaScriptCatalog.as_view()),
        name="javascript-catalog",
    ),
    path("accounts/", include("chat.web.account_urls")),
    path("accounts/", include("chat.sso.urls")),
    path("", include("chat.web.urls")),
]

# A page asked for while the database is down answers 503 "try again", not a 500.
handler500 = "chat.web.error_pages.server_error"
