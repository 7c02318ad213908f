"""The admin's MCP pages: servers (a secret write-only, a URL checked when saved, a local
server chosen among those the operator configured) and their tools (off until enabled;
who may use each, and whether each call needs the user's approval)."""

from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from chat.admin.charts import format_number
from chat.admin.registrations import PermissionBeforeLookup
from chat.models import McpServer, McpTool, ToolRun
from chat.services.tools.servers import mcp_server_secret_set, mcp_server_tools_refresh
from chat.tools.addresses import AddressRefused, mcp_url_check
from chat.tools.config import ServerUnavailable


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


class McpServerForm(forms.ModelForm):
    secret = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_(
            "Sent in the header above; stored encrypted, never shown again. Leave "
            "empty to keep the current one."
        ),
    )
    stdio = forms.ChoiceField(required=False, label=_("Local server"), choices=())
    url = forms.URLField(
        required=False,
        max_length=500,
        assume_scheme="https",
        label=_("URL"),
        widget=forms.URLInput(attrs={"class": "vURLField"}),
        help_text=McpServer._meta.get_field("url").help_text,
    )

    class Meta:
        model = McpServer
        fields = ["name", "slug", "url", "stdio", "secret_header", "allow_private", "enabled"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        names = sorted(settings.MCP_STDIO_SERVERS)
        stdio = self.fields["stdio"]
        assert isinstance(stdio, forms.ChoiceField)
        stdio.choices = [("", gettext("none: a remote server"))] + [(n, n) for n in names]

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        url, stdio = cleaned.get("url") or "", cleaned.get("stdio") or ""
        if bool(url) == bool(stdio):
            raise forms.ValidationError(gettext("Give either a URL or a local server, not both."))
        if url:
            try:
                mcp_url_check(str(url), allow_private=bool(cleaned.get("allow_private")))
            except AddressRefused as exc:
                self.add_error("url", str(exc))
        return cleaned

    def save(self, commit: bool = True) -> McpServer:
        server: McpServer = super().save(commit=False)
        if self.cleaned_data.get("secret"):
            mcp_server_secret_set(server, self.cleaned_data["secret"])
        elif self.instance.pk and _host(self.initial.get("url", "")) != _host(server.url):
            # The secret was given for the old host: it does not follow to a new one.
            mcp_server_secret_set(server, "")
        if commit:
            server.save()
        return server


@admin.register(McpServer)
class McpServerAdmin(PermissionBeforeLookup):
    form = McpServerForm
    list_display = ("name", "slug", "url", "stdio", "enabled", "tools_listed_at", "list_error")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("secret_hint", "tools_listed_at", "list_error")
    fields = [
        "name",
        "slug",
        "url",
        "stdio",
        "secret_header",
        "secret",
        "secret_hint",
        "allow_private",
        "enabled",
        "tools_listed_at",
        "list_error",
    ]
    actions = ["refresh_tools"]

    @admin.action(description=_("List the selected servers' tools again"))
    def refresh_tools(self, request: HttpRequest, queryset: QuerySet[McpServer]) -> None:
        for server in queryset:
            try:
                count = mcp_server_tools_refresh(server)
            except (ServerUnavailable, AddressRefused) as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                text = ngettext(
                    "%(server)s: %(count)d tool listed.",
                    "%(server)s: %(count)d tools listed.",
                    count,
                )
                self.message_user(request, text % {"server": server.name, "count": count})


@admin.register(McpTool)
class McpToolAdmin(PermissionBeforeLookup):
    list_display = ("name", "server", "enabled", "approval", "offered_to", "listed")
    list_editable = ("enabled", "approval")
    list_filter = ("server", "enabled", "approval", "listed")
    search_fields = ("name", "description")
    readonly_fields = ("server", "name", "description", "input_schema", "listed")
    filter_horizontal = ("groups", "users")
    fieldsets = [
        (None, {"fields": ["server", "name", "description", "input_schema", "listed"]}),
        (_("Use"), {"fields": ["enabled", "approval"]}),
        (
            _("Who may use it"),
            {
                "fields": ["groups", "users"],
                "description": _(
                    "Offered to the users and the members of the groups chosen "
                    "here, and to nobody while none are chosen. Each user picks it per "
                    "conversation in its settings."
                ),
            },
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[McpTool]:
        tools: QuerySet[McpTool] = super().get_queryset(request)
        return tools.select_related("server").annotate(
            group_count=Count("groups", distinct=True), user_count=Count("users", distinct=True)
        )

    @admin.display(description=_("offered to"))
    def offered_to(self, tool: McpTool) -> str:
        groups, users = getattr(tool, "group_count", 0), getattr(tool, "user_count", 0)
        if not groups and not users:
            return gettext("nobody")
        return gettext("%(groups)s groups, %(users)s users") % {
            "groups": format_number(groups),
            "users": format_number(users),
        }

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tools come from their server's list


@admin.register(ToolRun)
class ToolRunAdmin(PermissionBeforeLookup):
    """Every tool call a model made, as recorded when its answer was saved: read only."""

    list_display = ("created_at", "user", "name", "outcome", "duration_ms", "approved_by")
    list_filter = ("outcome", "tool__server")
    search_fields = ("name", "user__username")
    list_select_related = ("user", "approved_by")
    date_hierarchy = "created_at"
    fields = readonly_fields = (
        "created_at",
        "user",
        "message",
        "tool",
        "run_id",
        "name",
        "arguments",
        "outcome",
        "result",
        "duration_ms",
        "approved_by",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # written by generations only

    def has_change_permission(self, request: HttpRequest, obj: ToolRun | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ToolRun | None = None) -> bool:
        return False
