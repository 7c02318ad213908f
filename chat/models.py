"""What chatsite stores: users, conversations, messages, one usage row per upstream request,
and what admins set: providers, prices, limits, the sign-up mode."""

import secrets
import uuid
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """Custom from the start, as Django advises, so later fields need no painful swap."""


class Conversation(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="conversations",
        verbose_name=_("user"),
    )
    title = models.CharField(max_length=200, blank=True, verbose_name=_("title"))
    # Empty means the site's default provider (from the environment); else a Provider slug.
    provider = models.CharField(max_length=50, blank=True, verbose_name=_("provider"))
    # Empty means the provider's default model.
    model = models.CharField(max_length=200, blank=True, verbose_name=_("model"))
    system_prompt = models.TextField(blank=True)
    # Request parameters the user set for this conversation, validated by
    # chat.services.conversations.parameters; only these are sent upstream.
    parameters = models.JSONField(default=dict, blank=True)
    # The ids of the MCP tools the user chose for this conversation. What is sent is these
    # narrowed to what the admin lets the user use at the time (services/tools/offered.py);
    # a list, not a table, so a conversation without tools costs no query.
    tool_ids = models.JSONField(default=list, blank=True)
    # The end of the branch the user looks at: what the page shows, what a new message
    # follows and what is sent upstream. Empty means the newest message (as before branches).
    current_leaf = models.ForeignKey(
        "Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    # Pinned: first in the list, the most recently pinned first. Archived: out of the
    # list, still found by search and in the archived list, restorable. Setting either
    # leaves updated_at alone, so a conversation goes back to its place.
    pinned_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    # Deleting a project keeps its conversations, out of any project.
    project = models.ForeignKey(
        "Project", on_delete=models.SET_NULL, null=True, blank=True, related_name="conversations"
    )

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["user", "-updated_at"], name="conversation_user_recent")]

    def __str__(self) -> str:
        return self.title or f"Conversation {self.pk}"


class Message(models.Model):
    class Role(models.TextChoices):
        SYSTEM = "system", _("System")
        USER = "user", _("User")
        ASSISTANT = "assistant", _("Assistant")
        TOOL = "tool", _("Tool")

    class Status(models.TextChoices):
        STREAMING = "streaming", _("Streaming")
        COMPLETE = "complete", _("Complete")
        STOPPED = "stopped", _("Stopped")
        ERROR = "error", _("Error")
        INTERRUPTED = "interrupted", _("Interrupted")
        INCOMPLETE = "incomplete", _("Incomplete")

    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("conversation"),
    )
    # Edits and regenerations make siblings under one parent: the conversation is a tree.
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    role = models.CharField(max_length=16, choices=Role.choices, verbose_name=_("role"))
    content = models.TextField(blank=True)
    reasoning = models.TextField(blank=True)
    # From the first reasoning token to the first token of the answer (or its end): the
    # "Thought for 3 s" of the page after a reload. None: no reasoning, or saved before.
    reasoning_ms = models.PositiveIntegerField(null=True, blank=True)
    tool_calls = models.JSONField(default=list, blank=True)
    # The tools chatsite ran for this answer, round by round, as the page shows them and
    # later requests replay them (services/tools/runs.py, ToolRunState); ToolRun keeps
    # each run's record for the admins.
    tool_runs = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.COMPLETE, verbose_name=_("status")
    )
    finish_reason = models.CharField(max_length=32, blank=True, verbose_name=_("finish reason"))
    error = models.TextField(blank=True)
    model = models.CharField(max_length=200, blank=True, verbose_name=_("model"))
    time_to_first_token_ms = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    # When the user last selected a branch through this message: flipping back to a
    # version shows the branch under it that was last looked at (else the newest).
    selected_at = models.DateTimeField(null=True, blank=True)
    # Documents the question brought (from the user's library): their text, or the
    # passages that answer it, go with this question and the ones after it in its branch.
    documents: "models.ManyToManyField[Document, Any]" = models.ManyToManyField(
        "Document", blank=True, related_name="messages"
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    # Bumped by every flush while streaming: a streaming message whose updated_at is
    # long past belongs to a process that died.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation"],
                condition=Q(status="streaming"),
                name="one_generation_per_conversation",
            )
        ]
        # The requests-per-minute limit counts the last minute's answers.
        indexes = [models.Index(fields=["created_at"], name="message_created")]

    def __str__(self) -> str:
        return f"{self.role} message {self.pk}"


class Usage(models.Model):
    """One row per upstream request, however it ended."""

    class Purpose(models.TextChoices):
        ANSWER = "answer", _("Answer")
        TITLE = "title", _("Title")
        API = "api", _("Api")  # a request to the site's OpenAI-compatible API (/v1/)
        EMBEDDING = "embedding", _("Embedding")  # a document's passages or a question, as vectors

    request_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The ledger outlives nothing it accounts for: deactivate a user instead of deleting.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="usage",
        verbose_name=_("user"),
    )
    conversation = models.ForeignKey(
        Conversation, on_delete=models.SET_NULL, null=True, blank=True, related_name="usage"
    )
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="usage"
    )
    purpose = models.CharField(
        max_length=16, choices=Purpose.choices, default=Purpose.ANSWER, verbose_name=_("purpose")
    )
    # The personal API key a purpose=api request came with.
    api_key = models.ForeignKey(
        "ApiKey", on_delete=models.PROTECT, null=True, blank=True, related_name="usage"
    )
    provider = models.CharField(max_length=200, verbose_name=_("provider"))
    model = models.CharField(max_length=200, verbose_name=_("model"))
    status = models.CharField(
        max_length=16, choices=Message.Status.choices, verbose_name=_("status")
    )
    prompt_tokens = models.PositiveIntegerField(default=0, verbose_name=_("prompt tokens"))
    completion_tokens = models.PositiveIntegerField(default=0, verbose_name=_("completion tokens"))
    cached_tokens = models.PositiveIntegerField(default=0, verbose_name=_("cached tokens"))
    reasoning_tokens = models.PositiveIntegerField(default=0, verbose_name=_("reasoning tokens"))
    # True when the provider sent no usage chunk and the counts were estimated.
    estimated = models.BooleanField(default=False, verbose_name=_("estimated"))
    # In the prices' currency, from the prices in force when the request was made.
    cost = models.DecimalField(
        max_digits=14, decimal_places=8, default=Decimal(0), verbose_name=_("cost")
    )
    latency_ms = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("latency ms"))
    time_to_first_token_ms = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("time to first token ms")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("usage")
        verbose_name_plural = _("usage")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="usage_user_recent"),
            models.Index(fields=["-created_at"], name="usage_recent"),
            models.Index(fields=["model", "-created_at"], name="usage_model_recent"),
            # The admin's filters: a page and its (capped) count read an index, not the table.
            models.Index(fields=["status", "-created_at"], name="usage_status_recent"),
            models.Index(fields=["estimated", "-created_at"], name="usage_estimated_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.model}: {self.total_tokens} tokens"

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class UsageTotals(models.Model):
    """Counts summed over some ledger rows."""

    requests = models.PositiveIntegerField(default=0)
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    completion_tokens = models.PositiveBigIntegerField(default=0)
    cached_tokens = models.PositiveBigIntegerField(default=0)
    reasoning_tokens = models.PositiveBigIntegerField(default=0)
    estimated_requests = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=18, decimal_places=8, default=Decimal(0))

    class Meta:
        abstract = True


class UsageDaily(UsageTotals):
    """Usage summed per day, user, provider and model, kept with every usage row.

    The dashboard's per-user figures, the users' list and the monthly limits read these
    rows instead of aggregating millions of ledger rows.
    """

    day = models.DateField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="usage_days"
    )
    provider = models.CharField(max_length=200)
    model = models.CharField(max_length=200)

    class Meta:
        verbose_name = _("usage daily")
        verbose_name_plural = _("usage per day")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "day", "provider", "model"], name="usage_daily_unique"
            )
        ]
        indexes = [models.Index(fields=["day"], name="usage_daily_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.user_id} {self.model}"


class UsageDailyModel(UsageTotals):
    """The same sums per day and model only: a few hundred rows for a busy site's month,
    so the whole site's totals, per model and per day, cost nothing to read."""

    day = models.DateField()
    provider = models.CharField(max_length=200)
    model = models.CharField(max_length=200)

    class Meta:
        verbose_name = _("usage daily model")
        verbose_name_plural = _("usage per day and model")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "provider", "model"], name="usage_daily_model_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.model}"


# Either table of daily sums, for code that reads or writes both alike.
DailyTotals = TypeVar("DailyTotals", UsageDaily, UsageDailyModel)


class Provider(models.Model):
    """An OpenAI-compatible provider added in the admin (the default one comes from the
    environment). The API key is stored encrypted and never shown whole."""

    slug = models.SlugField(
        max_length=50,
        unique=True,
        help_text="Short name used in the ledger.",
        verbose_name=_("slug"),
    )
    name = models.CharField(max_length=200, verbose_name=_("name"))
    base_url = models.URLField(
        max_length=500,
        help_text="For example https://api.openai.com/v1",
        verbose_name=_("base url"),
    )
    api_key_encrypted = models.TextField(blank=True, editable=False)
    api_key_hint = models.CharField(max_length=20, blank=True, editable=False)
    enabled_models = models.JSONField(
        default=list,
        blank=True,
        help_text="Model ids offered to users; empty offers every model the provider lists.",
    )
    enabled = models.BooleanField(default=True, verbose_name=_("enabled"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("provider")
        verbose_name_plural = _("providers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ModelPrice(models.Model):
    """What one model costs, per million tokens. A blank provider matches every provider."""

    provider = models.CharField(
        max_length=50,
        blank=True,
        help_text="A provider slug, or blank.",
        verbose_name=_("provider"),
    )
    model = models.CharField(max_length=200, verbose_name=_("model"))
    input_per_million = models.DecimalField(
        max_digits=12, decimal_places=6, default=Decimal(0), verbose_name=_("input per million")
    )
    cached_input_per_million = models.DecimalField(
        max_digits=12,
        decimal_places=6,
        default=Decimal(0),
        verbose_name=_("cached input per million"),
    )
    output_per_million = models.DecimalField(
        max_digits=12, decimal_places=6, default=Decimal(0), verbose_name=_("output per million")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("model price")
        verbose_name_plural = _("model prices")
        ordering = ["model", "provider"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "model"], name="one_price_per_model")
        ]

    def __str__(self) -> str:
        return f"{self.model} ({self.provider or 'any provider'})"


class ModelDocuments(models.Model):
    """How one model takes the documents a question brings, where the site's default is not
    right for it: how many tokens of them go whole (its context window), and whether its
    provider reads PDFs itself (then they go as `file` parts, not as their text)."""

    provider = models.CharField(
        max_length=50,
        blank=True,
        help_text="A provider slug, or blank.",
        verbose_name=_("provider"),
    )
    model = models.CharField(max_length=200, verbose_name=_("model"))
    context_tokens = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Documents up to this many tokens go whole with a question; beyond it, "
        "the passages that answer it. Blank: the site's CHAT_DOCUMENT_CONTEXT_TOKENS.",
        verbose_name=_("context tokens"),
    )
    reads_pdf = models.BooleanField(
        default=False,
        help_text="The provider reads PDF files itself: PDFs go as file parts, not as text.",
        verbose_name=_("reads pdf"),
    )

    class Meta:
        verbose_name = _("model's documents setting")
        verbose_name_plural = _("model's documents settings")
        constraints = [
            models.UniqueConstraint(fields=["provider", "model"], name="one_document_setting")
        ]

    def __str__(self) -> str:
        return f"{self.provider or 'any provider'} / {self.model}"


class LimitFields(models.Model):
    """The limits a user can have; empty means no limit (or, for a user, the site default)."""

    monthly_tokens = models.PositiveBigIntegerField(null=True, blank=True)
    monthly_cost = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    requests_per_minute = models.PositiveIntegerField(null=True, blank=True)
    concurrent_generations = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        abstract = True


class SiteSettings(LimitFields):
    """The one row of site-wide settings an admin edits: sign-up mode and default limits."""

    class SignupMode(models.TextChoices):
        OPEN = "open", _("Open")
        INVITE = "invite", _("invite only")
        CLOSED = "closed", _("Closed")

    signup_mode = models.CharField(
        max_length=10, choices=SignupMode.choices, default=SignupMode.CLOSED
    )
    api_enabled = models.BooleanField(
        default=True, help_text="People may call the models with personal API keys (/v1/)."
    )
    # Documents' passages ranked by meaning beside their words (chat/services/documents/
    # embeddings.py); blank: by their words only.
    embeddings_model = models.CharField(
        max_length=200,
        blank=True,
        help_text="The model that turns documents' passages and questions into vectors, "
        "through the provider's /embeddings endpoint; blank ranks passages by their words only.",
    )
    embeddings_provider = models.CharField(
        max_length=50,
        blank=True,
        help_text="The slug of the provider that serves the embeddings model; blank: the "
        "default provider.",
    )
    public_shares = models.BooleanField(
        default=False,
        help_text="A person sharing a conversation may let anyone with the link read it, "
        "signed in or not; off, share links open for people signed in here only.",
    )
    retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Conversations nobody has written in for this many days are deleted, with "
        "their images, by the daily `manage.py conversations_expire`; empty keeps them. The "
        "usage ledger is kept.",
    )

    class Meta:
        verbose_name = _("site settings")
        verbose_name_plural = _("site settings")

    def __str__(self) -> str:
        return "Site settings"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.pk = 1  # one row, always
        super().save(*args, **kwargs)


class UserLimits(LimitFields):
    """One user's limits, where they differ from the site default, and allowed models."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="limits"
    )
    allowed_models = models.JSONField(
        default=list,
        blank=True,
        help_text="Model ids this user may choose; empty allows every offered model.",
    )
    api_enabled = models.BooleanField(
        default=True, help_text="This user may call the models with personal API keys."
    )

    class Meta:
        verbose_name = _("limits")
        verbose_name_plural = _("limits")

    def __str__(self) -> str:
        return f"Limits of {self.user}"


class GroupLimits(LimitFields):
    """A group's limits and allowed models, for each of its members (the groups are
    Django's own: an admin creates them and adds users to them in the admin)."""

    group = models.OneToOneField("auth.Group", on_delete=models.CASCADE, related_name="limits")
    allowed_models = models.JSONField(
        default=list,
        blank=True,
        help_text="Model ids the group's members may choose; empty: the group sets no list.",
    )
    # The team budget: what all members together may use in a month, whatever their own
    # limits; once it is used up, every member's send is refused until the month ends.
    team_monthly_tokens = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Tokens all members together may use in a month."
    )
    team_monthly_cost = models.DecimalField(
        max_digits=12,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="What all members together may spend in a month.",
    )
    api_enabled = models.BooleanField(
        default=True, help_text="Off: no member may use personal API keys."
    )
    retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Members' conversations are kept this many days since they were last "
        "written in, instead of the site's setting; a member of several groups keeps them "
        "the longest of their groups' times.",
    )

    class Meta:
        verbose_name = _("group limits")
        verbose_name_plural = _("group limits")

    def __str__(self) -> str:
        return f"Limits of the group {self.group}"


class IdentityProvider(models.Model):
    """An OpenID Connect provider people sign in with, added in the admin (more may come
    from the environment: SSO_PROVIDERS). The client secret is stored encrypted and never
    shown again."""

    slug = models.SlugField(
        max_length=50,
        unique=True,
        help_text=(
            "Short name in the sign-in address (/accounts/oidc/<slug>/login/callback/, the "
            "redirect URI to register at the provider). Changing it later unlinks every "
            "account signed in through it."
        ),
        verbose_name=_("slug"),
    )
    name = models.CharField(
        max_length=100, help_text="The login button says: Sign in with …", verbose_name=_("name")
    )
    issuer = models.URLField(
        max_length=500,
        help_text=(
            "The issuer URL; its /.well-known/openid-configuration is read. For another "
            "issuer, add another provider: accounts stay linked to this one's subjects."
        ),
        verbose_name=_("issuer"),
    )
    client_id = models.CharField(max_length=500)
    client_secret_encrypted = models.TextField(blank=True, editable=False)
    client_secret_hint = models.CharField(max_length=20, blank=True, editable=False)
    scopes = models.CharField(
        max_length=500,
        default="openid email profile",
        help_text="Space-separated; add the one that brings the groups claim if needed.",
    )
    enabled = models.BooleanField(default=True, verbose_name=_("enabled"))

    class Meta:
        verbose_name = _("identity provider")
        verbose_name_plural = _("identity providers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ClaimRule(models.Model):
    """One row of the table that turns a provider's claims into chatsite groups and staff:
    whoever signs in with `value` in the claim `claim` is put in `group` (and made staff,
    if ticked). Applied at every sign-in, so the provider stays the source of truth."""

    provider = models.CharField(
        max_length=50,
        blank=True,
        help_text="The provider's short name (its slug), or blank for every provider.",
        verbose_name=_("provider"),
    )
    claim = models.CharField(
        max_length=100,
        default="groups",
        help_text="The ID token's claim, for example groups or roles.",
        verbose_name=_("claim"),
    )
    value = models.CharField(
        max_length=500, help_text="One value of the claim, exactly.", verbose_name=_("value")
    )
    group = models.ForeignKey(
        "auth.Group",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="claim_rules",
        verbose_name=_("group"),
    )
    makes_staff = models.BooleanField(
        default=False,
        help_text="Staff may open the admin (with the permissions of their groups).",
        verbose_name=_("makes staff"),
    )

    class Meta:
        verbose_name = _("claim rule")
        verbose_name_plural = _("claim rules")
        ordering = ["provider", "claim", "value"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(group__isnull=False) | models.Q(makes_staff=True),
                name="claim_rule_does_something",
            ),
            models.UniqueConstraint(
                fields=["provider", "claim", "value", "group"], name="claim_rule_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.claim} = {self.value}"


class ApiKey(models.Model):
    """A personal key to the site's OpenAI-compatible API. Only a hash of the secret is
    kept (and its last four characters, to recognise it); the secret is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_keys",
        verbose_name=_("user"),
    )
    name = models.CharField(max_length=100, verbose_name=_("name"))
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    last_four = models.CharField(max_length=4, editable=False)
    # Model ids (as /v1/models lists them) this key may call; empty: every model the
    # user may use.
    allowed_models = models.JSONField(default=list, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, verbose_name=_("expires at"))
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))
    last_used_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("last used at")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} (…{self.last_four})"


class ApiCall(models.Model):
    """One API request while it runs, and how it ended: while `streaming`, it counts
    against its user's answers at once and holds part of their budgets, like an answer
    being written. Its tokens and cost are in its usage row."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_calls"
    )
    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="calls")
    provider = models.CharField(max_length=200)
    model = models.CharField(max_length=200)
    status = models.CharField(
        max_length=16, choices=Message.Status.choices, default=Message.Status.STREAMING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("api call")
        verbose_name_plural = _("api calls")
        indexes = [
            models.Index(fields=["user", "status"], name="api_call_user_status"),
            models.Index(fields=["user", "-created_at"], name="api_call_user_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.model} ({self.status})"


class McpServer(models.Model):
    """A Model Context Protocol server whose tools models may call: a remote one at a URL
    (Streamable HTTP), or a local one (stdio) by the name the server operator gave its
    command in MCP_STDIO_SERVERS; the admin never enters a command."""

    slug = models.SlugField(
        max_length=40, unique=True, help_text="Prefixes its tools' names.", verbose_name=_("slug")
    )
    name = models.CharField(max_length=100, verbose_name=_("name"))
    url = models.URLField(
        max_length=500,
        blank=True,
        help_text="A remote server's Streamable HTTP endpoint.",
        verbose_name=_("url"),
    )
    stdio = models.CharField(
        max_length=40,
        blank=True,
        help_text="Or: the name of a local server the operator configured (MCP_STDIO_SERVERS).",
        verbose_name=_("stdio"),
    )
    secret_header = models.CharField(
        max_length=100, blank=True, help_text="The header a secret goes in, e.g. Authorization."
    )
    secret_encrypted = models.TextField(blank=True, editable=False)
    secret_hint = models.CharField(max_length=20, blank=True, editable=False)
    allow_private = models.BooleanField(
        default=False,
        help_text="Allow a loopback or private address (the site's own network): only for a "
        "server you run there.",
    )
    enabled = models.BooleanField(default=True, verbose_name=_("enabled"))
    tools_listed_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("tools listed at")
    )
    list_error = models.TextField(blank=True, editable=False, verbose_name=_("list error"))

    class Meta:
        verbose_name = _("MCP server")
        verbose_name_plural = _("MCP servers")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(url="") & ~Q(stdio="")) | (~Q(url="") & Q(stdio="")),
                name="mcp_server_url_or_stdio",
            )
        ]

    def __str__(self) -> str:
        return self.name


class McpTool(models.Model):
    """One tool a server lists. Off until an admin enables it; offered to the groups and
    users chosen (none chosen: nobody), automatic or needing the user's approval."""

    class Approval(models.TextChoices):
        ASK = "ask", _("the user approves each call")
        AUTO = "auto", _("runs without asking")

    server = models.ForeignKey(
        McpServer, on_delete=models.CASCADE, related_name="tools", verbose_name=_("server")
    )
    name = models.CharField(max_length=128, verbose_name=_("name"))
    description = models.TextField(blank=True)
    input_schema = models.JSONField(default=dict)
    enabled = models.BooleanField(default=False, verbose_name=_("enabled"))
    approval = models.CharField(
        max_length=8, choices=Approval.choices, default=Approval.ASK, verbose_name=_("approval")
    )
    groups = models.ManyToManyField("auth.Group", blank=True, related_name="mcp_tools")
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="mcp_tools")
    # False once the server no longer lists it (kept: past runs name it).
    listed = models.BooleanField(default=True, verbose_name=_("listed"))

    class Meta:
        verbose_name = _("MCP tool")
        verbose_name_plural = _("MCP tools")
        ordering = ["server__name", "name"]
        constraints = [models.UniqueConstraint(fields=["server", "name"], name="mcp_tool_unique")]

    def __str__(self) -> str:
        return f"{self.server.slug}: {self.name}"


class ToolRun(models.Model):
    """The record of one tool call a model made in an answer: which tool, with what, how
    it ended, how long it took, and who approved it. Written when the answer is saved."""

    class Outcome(models.TextChoices):
        DONE = "done", _("Done")
        # The tool said so, or its server could not be reached in time.
        FAILED = "failed", _("Failed")
        DECLINED = "declined", _("Declined")  # by the user, or no answer in time
        # Not a tool offered, arguments not JSON, past the round limit.
        REFUSED = "refused", _("Refused")
        CANCELLED = "cancelled", _("Cancelled")  # Stop, or the server stopped

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="tool_run_records")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="tool_runs",
        verbose_name=_("user"),
    )
    # Kept when the tool is deleted: the name as the model called it says which it was.
    tool = models.ForeignKey(
        McpTool,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runs",
        verbose_name=_("tool"),
    )
    run_id = models.CharField(max_length=20)  # <round>-<index>, unique in its answer
    name = models.CharField(max_length=200, verbose_name=_("name"))
    arguments = models.TextField(blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, verbose_name=_("outcome"))
    result = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("duration ms"))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("tool run")
        verbose_name_plural = _("tool runs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["message", "run_id"], name="tool_run_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.outcome})"


def _invite_code() -> str:
    return secrets.token_urlsafe(24)


class Invite(models.Model):
    """A single-use sign-up link, for the invite-only mode."""

    code = models.CharField(max_length=64, unique=True, default=_invite_code, editable=False)
    note = models.CharField(max_length=200, blank=True, help_text="Who it is for.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    used_by = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invite",
        editable=False,
        verbose_name=_("used by"),
    )
    # Set once, kept when the account is deleted: a used link never works again.
    used_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("used at"))
    expires_at = models.DateTimeField(null=True, blank=True, verbose_name=_("expires at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("invite")
        verbose_name_plural = _("invites")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.note or f"Invite {self.pk}"


class Attachment(models.Model):
    """An image a user attached to a message. The bytes live in the database: they are
    small (CHAT_IMAGE_MAX_BYTES), backed up with everything else, and only ever served
    through an owner-scoped view. Uploaded first, then bound to the message that is sent."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attachments"
    )
    # Empty until the message it was uploaded for is sent.
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    # As Pillow found it in the bytes, never as the browser claimed.
    content_type = models.CharField(max_length=32)
    name = models.CharField(max_length=200, blank=True)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    data = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.content_type} attachment {self.pk}"


class Document(models.Model):
    """A document a user brought: its bytes (for a provider that reads files itself), and
    its text in passages, each a part of one page, slide or sheet so a citation can name
    where it comes from. In the user's library until they delete it; deleting it deletes
    its passages and their search index with it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="documents"
    )
    name = models.CharField(max_length=200)
    # As chat/documents/sniff.py found it in the bytes, never as the name claimed.
    kind = models.CharField(max_length=16)
    size = models.PositiveIntegerField()
    pages = models.PositiveIntegerField()  # pages, slides or sheets; 1 for Word and text
    chars = models.PositiveIntegerField()
    tokens = models.PositiveIntegerField()  # its whole text, estimated: does it fit a request
    data = models.BinaryField()
    # The embeddings model its passages' vectors come from; blank: they have none. A
    # question's vector is compared only with vectors of the same model.
    embedding_model = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="document_user_newest")]

    def __str__(self) -> str:
        return self.name


class Passage(models.Model):
    """A piece of a document's text, searched on its own (SQLite FTS5, PostgreSQL text
    search: migration 0011) and sent with a question when the whole does not fit.

    Careful with migrations of this table: on SQLite, one that rebuilds it (a new column
    without a default, say) drops migration 0011's triggers with it, and they must be made
    again; on PostgreSQL the generated `search` column depends on `text`."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="passages")
    n = models.PositiveIntegerField()  # its place in the document, from 0
    unit = models.CharField(max_length=16)  # "page", "slide", "sheet" or "document"
    unit_n = models.PositiveIntegerField()  # which page, slide or sheet, from 1
    label = models.CharField(max_length=100, blank=True)  # as the document prints it
    text = models.TextField()
    # Its vector from the document's embeddings model: float32, little-endian, of length
    # 1 (chat/services/documents/embeddings.py). Null: never embedded. Nullable so that
    # adding it did not rebuild the table on SQLite (see above).
    embedding = models.BinaryField(null=True, editable=False)

    class Meta:
        verbose_name = _("passage")
        verbose_name_plural = _("passages")
        ordering = ["document", "n"]
        constraints = [
            models.UniqueConstraint(fields=["document", "n"], name="passage_place_unique")
        ]

    def __str__(self) -> str:
        return f"{self.document_id} {self.unit} {self.unit_n}"


class Share(models.Model):
    """A read-only link to one branch of a conversation as it was when shared: a snapshot
    of its questions and answers (never its system prompt, its other branches, its tool
    runs or documents, nor its images unless the owner chose them). Revoked, the link
    answers as a missing one at once; deleting the conversation deletes its links."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shares"
    )
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="shares")
    # secrets.token_urlsafe(32): 256 random bits, the whole of what opens the link.
    token = models.CharField(max_length=64, unique=True)
    title = models.CharField(max_length=200)
    # [{"role", "content", "attachments": [ids]}], oldest first.
    messages = models.JSONField(default=list)
    # Anyone with the link, signed in or not (only while SiteSettings.public_shares).
    public = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("share")
        verbose_name_plural = _("shares")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="share_user_newest")]

    def __str__(self) -> str:
        return self.title


class Preset(models.Model):
    """Settings to start a conversation from, under a name: a system prompt, request
    parameters and a model. A user's own (`user` set), or published by an admin (`user`
    empty) for everyone or for the members of some groups."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="presets",
        help_text="Empty: published by the admin, for the people below.",
    )
    name = models.CharField(max_length=100, verbose_name=_("name"))
    system_prompt = models.TextField(blank=True)
    # As chat.services.conversations.parameters cleans them: only what is set.
    parameters = models.JSONField(default=dict, blank=True)
    provider = models.CharField(max_length=50, blank=True, help_text="A provider's slug.")
    model = models.CharField(
        max_length=200, blank=True, help_text="Empty: the default.", verbose_name=_("model")
    )
    everyone = models.BooleanField(
        default=False,
        help_text="A published preset: offered to everyone.",
        verbose_name=_("everyone"),
    )
    groups = models.ManyToManyField(
        "auth.Group",
        blank=True,
        related_name="presets",
        help_text="A published preset: offered to the members of these groups.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("preset")
        verbose_name_plural = _("presets")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Project(models.Model):
    """A user's named group of conversations, with what they share: instructions (a
    system prompt before each conversation's own), parameters (under each conversation's
    own), a default model for new ones, and documents that go with every question."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="projects"
    )
    name = models.CharField(max_length=100)
    system_prompt = models.TextField(blank=True)
    # As chat.services.conversations.parameters cleans them: only what is set.
    parameters = models.JSONField(default=dict, blank=True)
    provider = models.CharField(max_length=50, blank=True)
    model = models.CharField(max_length=200, blank=True)
    documents = models.ManyToManyField(Document, blank=True, related_name="projects")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name
