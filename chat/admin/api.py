"""The admin's API keys page: every key with its owner and use, never its secret (only a
hash is stored); revoking is immediate."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from chat.admin.registrations import FastChangeList
from chat.models import ApiKey
from chat.services.api.keys import api_keys_revoke_all


@admin.register(ApiKey)
class ApiKeyAdmin(FastChangeList):
    list_display = (
        "name",
        "user",
        "hint",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = ("revoked_at", "expires_at")
    search_fields = ("name", "=user__username", "last_four")
    list_select_related = ("user",)
    readonly_fields = (
        "user",
        "name",
        "hint",
        "allowed_models",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    fields = readonly_fields
    actions = ["revoke"]

    @admin.display(description=_("key"))
    def hint(self, key: ApiKey) -> str:
        return f"csk-…{key.last_four}"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a key is made by its owner, who alone sees its secret

    @admin.action(description=_("Revoke the selected keys (at once, on every process)"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = api_keys_revoke_all(queryset)
        text = ngettext("%(count)d key revoked.", "%(count)d keys revoked.", count)
        self.message_user(request, text % {"count": count}, messages.SUCCESS)
