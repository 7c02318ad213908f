from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import (
    Aggregate,
    Count,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import HttpRequest

from chat.models import Conversation, Message, Usage, User


def _usage_total(aggregate: Aggregate) -> Coalesce:
    # A subquery per column, not a join: a join would multiply rows and slow the list.
    per_user = (
        Usage.objects.filter(user=OuterRef("pk"))
        .order_by()
        .values("user")
        .annotate(total=aggregate)
        .values("total")
    )
    return Coalesce(Subquery(per_user, output_field=IntegerField()), Value(0))


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = (
        "username",
        "email",
        "is_active",
        "is_staff",
        "prompt_tokens",
        "completion_tokens",
        "requests",
        "last_login",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                prompt_total=_usage_total(Sum("prompt_tokens")),
                completion_total=_usage_total(Sum("completion_tokens")),
                request_total=_usage_total(Count("id")),
            )
        )

    @admin.display(description="prompt tokens", ordering="prompt_total")
    def prompt_tokens(self, user: User) -> int:
        return user.prompt_total  # type: ignore[attr-defined]

    @admin.display(description="completion tokens", ordering="completion_total")
    def completion_tokens(self, user: User) -> int:
        return user.completion_total  # type: ignore[attr-defined]

    @admin.display(description="requests", ordering="request_total")
    def requests(self, user: User) -> int:
        return user.request_total  # type: ignore[attr-defined]


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "user", "model", "created_at", "updated_at")
    list_select_related = ("user",)
    search_fields = ("title", "user__username")
    list_filter = ("created_at",)
    raw_id_fields = ("user",)
    show_full_result_count = False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "conversation", "role", "status", "finish_reason", "model", "created_at")
    list_select_related = ("conversation",)
    list_filter = ("role", "status", "created_at")
    search_fields = ("content",)
    raw_id_fields = ("conversation", "parent")
    show_full_result_count = False


@admin.register(Usage)
class UsageAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "user",
        "purpose",
        "provider",
        "model",
        "status",
        "prompt_tokens",
        "completion_tokens",
        "cached_tokens",
        "reasoning_tokens",
        "estimated",
        "time_to_first_token_ms",
        "latency_ms",
    )
    list_select_related = ("user",)
    list_filter = ("status", "purpose", "estimated", "model", "created_at")
    search_fields = ("user__username", "model")
    raw_id_fields = ("user", "conversation", "message")
    date_hierarchy = "created_at"
    show_full_result_count = False
    readonly_fields = [f.name for f in Usage._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the ledger is written by generations only

    def has_change_permission(self, request: HttpRequest, obj: Usage | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Usage | None = None) -> bool:
        return False
