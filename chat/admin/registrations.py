"""The admin: users with their usage, limits and invites; providers with encrypted keys;
prices; the read-only ledger and its dashboard. Built to stay fast with millions of rows:
no full counts, filters whose choices come from small tables, totals from daily sums."""

from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypedDict, cast

from allauth.socialaccount.models import SocialAccount
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminSplitDateTime
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import (
    Count,
    DecimalField,
    Field,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from chat.admin.charts import format_number
from chat.admin.dashboard import usage_dashboard
from chat.admin.periods import PERIODS, midnight
from chat.admin.reports import usage_models_seen
from chat.admin.user_page import dashboard_url_for, user_summary
from chat.models import (
    Conversation,
    GroupLimits,
    Invite,
    Message,
    ModelDocuments,
    ModelPrice,
    Preset,
    Provider,
    SiteSettings,
    Usage,
    UsageDaily,
    User,
    UserLimits,
)
from chat.services.conversations.parameters import SettingsInvalid, settings_clean
from chat.services.providers import provider_key_set
from chat.services.usage.limits import (
    month_start,
    site_settings,
    team_usage_this_month,
)
from chat.web.authenticated import AuthenticatedHttpRequest

# Beyond this many rows a changelist says "10,000+" instead of counting them all.
COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    """Counting a million rows takes longer than showing a page of them: count at most
    COUNT_CAP + 1 (a bounded subquery) and let the pages beyond be reached by filters."""

    @cached_property
    def count(self) -> int:
        # Admin changelists page querysets only.
        rows = cast(QuerySet[Any], self.object_list)
        ids = rows.values("pk")[: COUNT_CAP + 1]  # no joins, no columns
        return min(ids.count(), COUNT_CAP)


def split_datetime_named(field: forms.Field | None, name: "StrOrPromise") -> None:
    """Django's date-and-time widget labels only its first box's id, with no <label> for
    either box (axe-core: "Form elements must have labels", critical): each box is named
    for the field and its part."""
    if field is not None and isinstance(field.widget, AdminSplitDateTime):
        date, time = field.widget.widgets
        date.attrs["aria-label"] = format_lazy("{}: {}", capfirst(name), _("date"))
        time.attrs["aria-label"] = format_lazy("{}: {}", capfirst(name), _("time"))


class PermissionBeforeLookup(admin.ModelAdmin):
    """Django's history view looks the object up before it checks permission: a staff
    user without any could tell existing ids (403) from missing ones (a redirect). Refuse
    first, as the change and delete views do. Every ModelAdmin here starts from this."""

    def formfield_for_dbfield(
        self, db_field: "Field[Any, Any]", request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        split_datetime_named(field, db_field.verbose_name)
        return field

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        return super().history_view(request, object_id, extra_context)


class FastChangeList(PermissionBeforeLookup):
    paginator = CappedCountPaginator
    show_full_result_count = False


class LinesField(forms.Field):
    """A list of ids edited as one per line."""

    widget = forms.Textarea(attrs={"rows": 4})

    def prepare_value(self, value: Any) -> str:
        return "\n".join(value) if isinstance(value, list) else (value or "")

    def to_python(self, value: Any) -> list[str]:
        return [line.strip() for line in str(value or "").splitlines() if line.strip()]


# --- users ----------------------------------------------------------------------------


def _this_month(field: str, output: Any) -> Coalesce:
    # A subquery per column into the daily sums, not a join over the ledger.
    per_user = (
        UsageDaily.objects.filter(user=OuterRef("pk"), day__gte=month_start())
        .order_by()
        .values("user")
        .annotate(total=Sum(field))
        .values("total")
    )
    return Coalesce(Subquery(per_user, output_field=output), Value(0), output_field=output)


class MonthTotals(TypedDict):
    """What UserAdmin.get_queryset annotates each user with."""

    prompt_month: int
    completion_month: int
    requests_month: int
    cost_month: Decimal


if TYPE_CHECKING:
    # django_stubs_ext is a type checker's package, not the site's.
    from django_stubs_ext import StrOrPromise, WithAnnotations

    UserWithMonth = WithAnnotations[User, MonthTotals]


class UserLimitsForm(forms.ModelForm):
    allowed_models = LinesField(
        required=False, help_text=_("One model id per line; empty allows every offered model.")
    )

    class Meta:
        model = UserLimits
        fields = [
            "monthly_tokens",
            "monthly_cost",
            "requests_per_minute",
            "concurrent_generations",
            "allowed_models",
            "api_enabled",
        ]


class UserLimitsInline(admin.StackedInline):
    model = UserLimits
    form = UserLimitsForm
    can_delete = True
    extra = 0
    max_num = 1
    verbose_name = verbose_name_plural = _("limits (empty: the site's default)")


@admin.register(User)
class UserAdmin(PermissionBeforeLookup, DjangoUserAdmin):
    list_display = (
        "username",
        "email",
        "is_active",
        "is_staff",
        "month_requests",
        "month_tokens",
        "month_cost",
        "last_login",
    )
    list_filter = ("is_active", "is_staff", "is_superuser", "groups")
    inlines = [UserLimitsInline]
    readonly_fields = ("sso_identities",)
    # Usage and the limits in force lead the page (user_page.py, in the template
    # admin/chat/user/change_form.html), then the form of the user's own limits, then these.
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("Single sign-on"), {"fields": ("sso_identities",)}),
    )
    actions = ["activate", "deactivate"]
    paginator = CappedCountPaginator
    show_full_result_count = False

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # Only for a user this admin may see: the lookup is Django's, after its checks.
        user = (
            self.get_object(request, object_id)
            if self.has_view_or_change_permission(request)
            else None
        )
        extra = {"usage_summary": user_summary(user) if user else None, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra)

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        users: QuerySet[User] = super().get_queryset(request)
        # MonthTotals, which the list's columns read.
        return users.annotate(
            prompt_month=_this_month("prompt_tokens", IntegerField()),
            completion_month=_this_month("completion_tokens", IntegerField()),
            requests_month=_this_month("requests", IntegerField()),
            cost_month=_this_month("cost", DecimalField(max_digits=18, decimal_places=8)),
        )

    @admin.display(description=_("identities at providers"))
    def sso_identities(self, user: User) -> str:
        """(provider, subject): who the user is at each provider they sign in with
        (unlinked on the Social accounts pages)."""
        accounts = SocialAccount.objects.filter(user=user.pk).order_by("provider")
        if not accounts:
            return gettext("None: signs in with a password.")
        return format_html_join(
            mark_safe("<br>"),
            gettext("{} · subject {} · last sign-in {}"),
            ((a.provider, a.uid, a.last_login) for a in accounts),
        )

    @admin.display(description=_("requests this month"), ordering="requests_month")
    def month_requests(self, user: "UserWithMonth") -> str:
        return format_number(user.requests_month)

    @admin.display(description=_("tokens this month"))
    def month_tokens(self, user: "UserWithMonth") -> str:
        # A link to the dashboard narrowed to the user: each user's usage one click away.
        tokens = format_number(user.prompt_month + user.completion_month)
        return format_html(
            '<a href="{}" aria-label="{}">{}</a>',
            dashboard_url_for(user),
            gettext("%(tokens)s tokens: the usage dashboard") % {"tokens": tokens},
            tokens,
        )

    @admin.display(description=_("cost this month"), ordering="cost_month")
    def month_cost(self, user: "UserWithMonth") -> str:
        return format_number(user.cost_month, 4)

    @admin.action(description=_("Activate the selected users"))
    def activate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = queryset.update(is_active=True)
        text = ngettext("%(count)d user activated.", "%(count)d users activated.", count)
        self.message_user(request, text % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Deactivate the selected users (they cannot log in or send)"))
    def deactivate(self, request: AuthenticatedHttpRequest, queryset: QuerySet[User]) -> None:
        count = queryset.exclude(pk=request.user.pk).update(is_active=False)
        text = ngettext("%(count)d user deactivated.", "%(count)d users deactivated.", count)
        self.message_user(request, text % {"count": count}, messages.SUCCESS)


class GroupLimitsForm(forms.ModelForm):
    allowed_models = LinesField(
        required=False,
        help_text=_(
            "One model id per line; empty: this group sets no list. A member without "
            "a list of their own may choose any model on their groups' lists (every model "
            "offered when none of their groups sets one)."
        ),
    )

    class Meta:
        model = GroupLimits
        fields = [
            *UserLimitsForm.Meta.fields,
            "team_monthly_tokens",
            "team_monthly_cost",
            "retention_days",
        ]


class GroupLimitsInline(admin.StackedInline):
    model = GroupLimits
    form = GroupLimitsForm
    can_delete = True
    extra = 0
    max_num = 1
    verbose_name = verbose_name_plural = _(
        "limits for each member (a member's own limit wins; else the most generous group's; "
        "else the site's default)"
    )


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(PermissionBeforeLookup, DjangoGroupAdmin):
    """Django's groups, with the limits and models they give their members."""

    inlines = [GroupLimitsInline]
    list_display = ("name", "members", "team_used")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Group]:
        groups: QuerySet[Group] = super().get_queryset(request)
        return groups.select_related("limits").annotate(member_count=Count("user"))

    @admin.display(description=_("members"), ordering="member_count")
    def members(self, group: Group) -> int:
        return getattr(group, "member_count", 0)

    @admin.display(description=_("team budget used this month"))
    def team_used(self, group: Group) -> str:
        budget: GroupLimits | None = getattr(group, "limits", None)
        if budget is None or (
            budget.team_monthly_tokens is None and budget.team_monthly_cost is None
        ):
            return gettext("no team budget")
        used = team_usage_this_month(group.pk)
        parts = []
        if budget.team_monthly_tokens is not None:
            parts.append(
                gettext("%(used)s of %(limit)s tokens")
                % {
                    "used": format_number(used.tokens),
                    "limit": format_number(budget.team_monthly_tokens),
                }
            )
        if budget.team_monthly_cost is not None:
            parts.append(
                gettext("%(used)s of %(limit)s")
                % {
                    "used": format_number(used.cost, 2),
                    "limit": format_number(budget.team_monthly_cost, 2),
                }
            )
        return "; ".join(parts)


@admin.register(Invite)
class InviteAdmin(FastChangeList):
    list_display = ("__str__", "created_at", "expires_at", "used_by", "used_at", "link")
    readonly_fields = ("link", "used_by", "used_at", "created_by")
    fields = ("note", "expires_at", "link", "used_by", "used_at", "created_by")

    @admin.display(description=_("sign-up link"))
    def link(self, invite: Invite) -> str:
        if not invite.pk:
            return gettext("Saved invites show their link here.")
        if invite.used_at:
            return gettext("Used")
        return format_html("<code>{}?invite={}</code>", reverse("signup"), invite.code)

    def save_model(self, request: HttpRequest, obj: Invite, form: Any, change: bool) -> None:
        # The admin lets signed-in staff only in: never AnonymousUser.
        if not change and isinstance(request.user, User):
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class SiteSettingsForm(forms.ModelForm):
    class Meta:
        model = SiteSettings
        exclude: list[str] = []

    def clean_embeddings_provider(self) -> str:
        slug: str = self.cleaned_data["embeddings_provider"]
        if slug and not Provider.objects.filter(slug=slug, enabled=True).exists():
            raise forms.ValidationError(gettext("No enabled provider has this slug."))
        return slug


class PresetForm(forms.ModelForm):
    class Meta:
        model = Preset
        fields = ["name", "system_prompt", "parameters", "provider", "model", "everyone", "groups"]

    def clean_parameters(self) -> dict[str, Any]:
        try:
            cleaned = settings_clean(self.cleaned_data["parameters"] or {})
        except SettingsInvalid as exc:
            raise forms.ValidationError(list(exc.errors.values())) from None
        return cleaned.parameters or {}


@admin.register(Preset)
class PresetAdmin(PermissionBeforeLookup):
    """Presets the admin publishes, for everyone or for groups; users' own are theirs."""

    form = PresetForm
    list_display = ("name", "model", "everyone")
    search_fields = ("name",)
    filter_horizontal = ("groups",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Preset]:
        return super().get_queryset(request).filter(user__isnull=True)


@admin.register(SiteSettings)
class SiteSettingsAdmin(PermissionBeforeLookup):
    form = SiteSettingsForm
    fieldsets = [
        (None, {"fields": ["signup_mode", "api_enabled", "public_shares"]}),
        (_("Documents"), {"fields": ["embeddings_model", "embeddings_provider"]}),
        (_("Keeping conversations"), {"fields": ["retention_days"]}),
        (
            _("Default limits for every user (empty: no limit)"),
            {
                "fields": [
                    "monthly_tokens",
                    "monthly_cost",
                    "requests_per_minute",
                    "concurrent_generations",
                ]
            },
        ),
    ]

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        row = site_settings(fresh=True)  # created with SIGNUP_MODE, as everywhere else
        return HttpResponseRedirect(reverse("admin:chat_sitesettings_change", args=[row.pk]))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- providers and prices -------------------------------------------------------------


class ProviderForm(forms.ModelForm):
    base_url = forms.URLField(
        assume_scheme="https", help_text=Provider._meta.get_field("base_url").help_text
    )
    api_key = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_(
            "Stored encrypted; never shown again. Leave empty to keep the current key "
            "(a changed base URL drops it: enter it again)."
        ),
    )
    clear_api_key = forms.BooleanField(required=False, label=_("Remove the stored key"))
    enabled_models = LinesField(
        required=False,
        help_text=_("One model id per line; empty offers every model the provider lists."),
    )

    class Meta:
        model = Provider
        fields = ["name", "slug", "base_url", "enabled", "enabled_models"]

    def save(self, commit: bool = True) -> Provider:
        provider: Provider = super().save(commit=False)
        moved = self.instance.pk and "base_url" in self.changed_data
        if self.cleaned_data.get("clear_api_key") or (moved and not self.cleaned_data["api_key"]):
            # A stored key is never sent to a new address it was not entered for.
            provider_key_set(provider, "")
        elif self.cleaned_data.get("api_key"):
            provider_key_set(provider, self.cleaned_data["api_key"])
        if commit:
            provider.save()
        return provider


@admin.register(Provider)
class ProviderAdmin(PermissionBeforeLookup):
    form = ProviderForm
    list_display = ("name", "slug", "base_url", "enabled", "key", "model_count")
    list_filter = ("enabled",)
    search_fields = ("name", "slug", "base_url")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("key",)
    fields = [
        "name",
        "slug",
        "base_url",
        "api_key",
        "key",
        "clear_api_key",
        "enabled",
        "enabled_models",
    ]

    @admin.display(description=_("API key"))
    def key(self, provider: Provider) -> str:
        return provider.api_key_hint or gettext("none")

    @admin.display(description=_("models offered"))
    def model_count(self, provider: Provider) -> str:
        if not provider.enabled_models:
            return gettext("all listed")
        return format_number(len(provider.enabled_models))


@admin.register(ModelPrice)
class ModelPriceAdmin(PermissionBeforeLookup):
    list_display = (
        "model",
        "provider",
        "input_per_million",
        "cached_input_per_million",
        "output_per_million",
        "updated_at",
    )
    list_editable = ("input_per_million", "cached_input_per_million", "output_per_million")
    search_fields = ("model", "provider")
    list_filter = ("provider",)


@admin.register(ModelDocuments)
class ModelDocumentsAdmin(PermissionBeforeLookup):
    list_display = ("model", "provider", "context_tokens", "reads_pdf")
    list_editable = ("context_tokens", "reads_pdf")
    search_fields = ("model", "provider")


# --- conversations and the ledger -----------------------------------------------------


@admin.register(Conversation)
class ConversationAdmin(FastChangeList):
    list_display = ("id", "title", "user", "provider", "model", "created_at", "updated_at")
    list_select_related = ("user",)
    search_fields = ("title", "=user__username")
    raw_id_fields = ("user",)


@admin.register(Message)
class MessageAdmin(FastChangeList):
    list_display = ("id", "conversation", "role", "status", "finish_reason", "model", "created_at")
    list_select_related = ("conversation",)
    list_filter = ("role", "status")
    search_fields = ("content",)
    raw_id_fields = ("conversation", "parent")


class PeriodFilter(admin.SimpleListFilter):
    title = _("period")
    parameter_name = "period"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, "StrOrPromise"]]:
        return [(key, period.filter_label) for key, period in PERIODS.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Usage]) -> QuerySet[Usage]:
        period = PERIODS.get(self.value() or "")
        if period is None:
            return queryset
        start, _ = period.span()
        return queryset.filter(created_at__gte=midnight(start))


class ModelFilter(admin.SimpleListFilter):
    """Choices from the daily sums: a DISTINCT over the ledger would read every row."""

    title = _("model")
    parameter_name = "model"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(model, model) for model in usage_models_seen()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Usage]) -> QuerySet[Usage]:
        return queryset.filter(model=self.value()) if self.value() else queryset


@admin.register(Usage)
class UsageAdmin(FastChangeList):
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
        "cost",
        "time_to_first_token_ms",
        "latency_ms",
    )
    list_select_related = ("user",)
    list_filter = (PeriodFilter, "status", "purpose", "estimated", ModelFilter)
    search_fields = ("=user__username",)  # see get_search_results
    search_help_text = _("An exact user name.")
    raw_id_fields = ("user", "conversation", "message")
    readonly_fields = [f.name for f in Usage._meta.fields]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Usage], search_term: str
    ) -> tuple[QuerySet[Usage], bool]:
        # A user name becomes that user's id, so the (user, created_at) index serves the
        # page; a join on the name would walk the whole ledger.
        if not search_term.strip():
            return queryset, False
        user_id = User.objects.filter(username=search_term.strip()).values_list("pk", flat=True)
        return queryset.filter(user_id__in=list(user_id)), False

    def get_urls(self) -> list[URLPattern]:
        dashboard = path(
            "dashboard/",
            self.admin_site.admin_view(self.dashboard_view),
            name="chat_usage_dashboard",
        )
        return [dashboard, *super().get_urls()]

    def dashboard_view(self, request: HttpRequest) -> Any:
        # Every user's usage: only for staff who may read the ledger itself.
        if not self.has_view_permission(request):
            raise PermissionDenied
        return usage_dashboard(request)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        extra = {"dashboard_url": reverse("admin:chat_usage_dashboard"), **(extra_context or {})}
        return super().changelist_view(request, extra)

    def lookup_allowed(self, lookup: str, value: str, request: Any = None) -> bool:
        # The dashboard's drill-down links: one user's requests in a period.
        if lookup in {"user__id__exact", "created_at__gte", "created_at__lt"}:
            return True
        return super().lookup_allowed(lookup, value, request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the ledger is written by generations only

    def has_change_permission(self, request: HttpRequest, obj: Usage | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Usage | None = None) -> bool:
        return False
