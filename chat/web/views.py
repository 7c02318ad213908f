"""Thin views: scope every lookup to the signed-in user, build a context, render."""

from collections.abc import Callable, Iterable
from dataclasses import asdict
from decimal import Decimal
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.defaultfilters import date as date_format
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chat import texts
from chat.documents.sniff import PICKER_ACCEPT
from chat.json_input import JSONInvalid, JSONTooDeep, json_read
from chat.models import Attachment, Conversation, Project
from chat.realtime.protocol import CLOSE_UNAUTHENTICATED, SOCKET_PATH
from chat.selectors import (
    attachment_get,
    branch_siblings,
    conversation_branch,
    conversation_get,
    conversation_list,
    conversation_messages,
    conversation_search,
    conversations_archived,
    documents_by_message,
)
from chat.services.accounts import InviteInvalid, SignupClosed, account_create, signup_check
from chat.services.answers.interruptions import streams_interrupt_stale
from chat.services.conversations.attachments import (
    AttachmentInvalid,
    allowed_types,
    attachment_create,
    attachment_summary,
    attachments_of,
    image_too_large,
)
from chat.services.conversations.export import (
    conversation_json,
    conversation_markdown,
    export_filename,
)
from chat.services.conversations.lifecycle import (
    GenerationInProgress,
    TitleInvalid,
    conversation_archive,
    conversation_delete,
    conversation_pin,
    conversation_rename,
)
from chat.services.conversations.parameters import (
    SettingsInvalid,
    conversation_settings,
    conversation_settings_save,
    settings_clean,
    settings_tools_check,
)
from chat.services.conversations.presets import preset_summary, presets_for
from chat.services.conversations.projects import project_get
from chat.services.conversations.titles import TITLE_MAX_CHARS, TITLE_UNTITLED
from chat.services.documents.library import document_summary
from chat.services.providers import model_choices, model_sources
from chat.services.tools.offered import tools_choosable
from chat.services.usage.limits import UsageSummary, site_settings, usage_summary
from chat.sso.selectors import sign_in_buttons
from chat.web.authenticated import AuthenticatedHttpRequest
from chat.web.forms import SignupForm

SIDEBAR_LIMIT = 200
# The search box's maxlength too (chat.html).
SEARCH_MAX_CHARS = 200

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _missing_is_404(
    missing: type[ObjectDoesNotExist], message: str | Promise
) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """The view answers 404 when its object is not found. Every lookup is scoped to the
    signed-in user (chat.selectors), so another user's id is not found either."""

    def decorator(view: Callable[_P, _R]) -> Callable[_P, _R]:
        @wraps(view)
        def answering_404(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            try:
                return view(*args, **kwargs)
            except missing:
                # A lazy text (chat.texts), translated when the 404 page shows it.
                raise Http404(message) from None

        return answering_404

    return decorator


_conversation_404 = _missing_is_404(Conversation.DoesNotExist, texts.CONVERSATION_NOT_FOUND)


def _chat_context(
    request: AuthenticatedHttpRequest,
    conversation: Conversation | None,
    new_in: Project | None = None,
) -> dict[str, Any]:
    # The selected branch only; the page flips to the others over the websocket.
    branch = conversation_branch(conversation=conversation) if conversation else []
    for message in branch:
        # Shown, not saved: the English texts saved with an answer, in the reader's
        # language (as the websocket shows them, chat.realtime.frames.shown_frame).
        message.error = texts.shown(message.error)
        message.tool_runs = [
            {**run, "result": texts.shown(run.get("result", ""))} for run in message.tool_runs or []
        ]
    siblings = branch_siblings(conversation=conversation, branch=branch) if conversation else {}
    questions = [m.pk for m in branch if m.role == "user"]
    images = attachments_of(questions)
    brought = documents_by_message(message_ids=questions)
    summary = usage_summary(request.user)
    projects = list(Project.objects.filter(user=request.user).only("pk", "name"))
    return {
        "conversations": conversation_list(user=request.user)[:SIDEBAR_LIMIT],
        "conversation": conversation,
        "messages": branch,
        "usage_line": usage_line(summary),
        "search_max_chars": SEARCH_MAX_CHARS,
        "title_max_chars": TITLE_MAX_CHARS,
        "untitled": gettext(TITLE_UNTITLED),
        "public_shares": site_settings().public_shares,
        "projects": projects,
        "project": new_in
        or (conversation.project if conversation and conversation.project_id else None),
        "chat_config": {
            "conversationId": conversation.pk if conversation else None,
            "conversationModel": (
                {"provider": conversation.provider, "model": conversation.model}
                if conversation and conversation.model
                else None
            ),
            "maxMessageChars": settings.CHAT_MAX_MESSAGE_CHARS,
            "presets": [preset_summary(p) for p in presets_for(user=request.user)],
            # A new chat started in a project: the first send names it, and its model.
            "project": (
                {"id": new_in.pk, "model": {"provider": new_in.provider, "model": new_in.model}}
                if new_in
                else None
            ),
            # The socket's close code for a session that ended: the page offers to sign in.
            "closeSignedOut": CLOSE_UNAUTHENTICATED,
            # Message id -> the ids of it and its siblings, for the "2/3" version controls.
            "branches": {str(k): v for k, v in siblings.items() if len(v) > 1},
            "settings": conversation_settings(conversation).as_dict() if conversation else {},
            # The tools the user may choose for a conversation (the settings dialog).
            "tools": tools_choosable(request.user),
            "csrfToken": get_token(request),
            "conversationTitle": conversation.title if conversation else "",
            # Message id -> the tools run for it (as the page shows them).
            "toolRuns": {str(m.pk): m.tool_runs for m in branch if m.tool_runs},
            # Message id -> its images, shown as thumbnails.
            "attachments": {str(k): [attachment_summary(a) for a in v] for k, v in images.items()},
            # Message id -> the documents it brought, shown as chips.
            "documents": {str(k): [document_summary(d) for d in v] for k, v in brought.items()},
            "documentMaxBytes": settings.CHAT_DOCUMENT_MAX_BYTES,
            "documentTypes": PICKER_ACCEPT,
            "imageTypes": sorted(allowed_types().values()),
            "imageMaxBytes": settings.CHAT_IMAGE_MAX_BYTES,
            "imageTooLarge": texts.IMAGE_TOO_LARGE,
            # Every URL the page's scripts use; those of a conversation have "{id}" in
            # place of its id.
            "urls": {
                "socket": "/" + SOCKET_PATH,
                "models": reverse("chat:models"),
                "usage": reverse("chat:usage"),
                "search": reverse("chat:search"),
                "settingsCheck": reverse("chat:settings_check"),
                "attachmentUpload": reverse("chat:attachment_upload"),
                "documentUpload": reverse("chat:document_upload"),
                "documents": reverse("chat:documents"),
                "archived": reverse("chat:archived"),
                "presets": reverse("chat:presets"),
                "presetDelete": _url_template("chat:preset_delete", id_name="preset_id"),
                "conversation": {
                    "page": _url_template("chat:conversation"),
                    "settings": _url_template("chat:conversation_settings"),
                    "rename": _url_template("chat:rename"),
                    "delete": _url_template("chat:delete"),
                    "pin": _url_template("chat:pin"),
                    "share": _url_template("chat:share_create"),
                    "archive": _url_template("chat:archive"),
                    "move": _url_template("chat:move"),
                    "exportMarkdown": _url_template("chat:export", fmt="md"),
                    "exportJson": _url_template("chat:export", fmt="json"),
                },
            },
        },
    }


def _document_names(message_ids: Iterable[int]) -> dict[int, list[str]]:
    """Message id -> the names of the documents it brought, for an export."""
    brought = documents_by_message(message_ids=message_ids)
    return {k: [d.name for d in v] for k, v in brought.items()}


# A conversation id no real URL holds, reversed and then replaced by "{id}".
_ID_STAND_IN = 987654321


def _url_template(name: str, id_name: str = "conversation_id", **kwargs: str) -> str:
    """The URL of a conversation's view (or of another object's, whose id is `id_name`),
    with "{id}" where its id goes (the page's scripts fill it in)."""
    url = reverse(name, kwargs={id_name: _ID_STAND_IN, **kwargs})
    return url.replace(str(_ID_STAND_IN), "{id}")


def _money(value: Decimal | None) -> str:
    return number_format(value or 0, decimal_pos=2, force_grouping=True)


def usage_line(summary: UsageSummary) -> str:
    """The user's usage this month, in one line: on the page, and in /usage/'s answer
    for the page to show after each answer. Numbers and the date are written the
    reader's way; each piece is a whole phrase for the translators."""
    number = texts.number
    parts = [
        ngettext("%(count)s token", "%(count)s tokens", summary.tokens)
        % {"count": number(summary.tokens)}
    ]
    if summary.token_limit is not None:
        parts[0] = gettext("%(tokens)s, %(left)s of %(limit)s left") % {
            "tokens": parts[0],
            "left": number(summary.tokens_left or 0),
            "limit": number(summary.token_limit),
        }
    if summary.cost_limit is not None:
        parts.append(
            gettext("budget %(left)s of %(limit)s left")
            % {"left": _money(summary.cost_left), "limit": _money(summary.cost_limit)}
        )
    for team in summary.teams:
        # A team budget can run out before the user's own: they are told of it too.
        left = []
        if team.token_limit is not None:
            left.append(
                gettext("%(left)s of %(limit)s tokens")
                % {"left": number(team.tokens_left or 0), "limit": number(team.token_limit)}
            )
        if team.cost_limit is not None:
            left.append(
                gettext("%(left)s of %(limit)s")
                % {"left": _money(team.cost_left), "limit": _money(team.cost_limit)}
            )
        # Translators: joins what is left of a team's tokens and of its budget.
        joined = gettext(" and ").join(left)
        parts.append(
            gettext("team %(group)s: %(left)s left") % {"group": team.group, "left": joined}
        )
    # Translators: between the parts of the usage line (tokens; budget; a team's).
    line = gettext("; ").join(parts)
    if summary.token_limit is not None or summary.cost_limit is not None or summary.teams:
        # MONTH_DAY_FORMAT: "December 1" in English, "1. Dezember" in German.
        line = gettext("%(usage)s (resets %(date)s)") % {
            "usage": line,
            "date": date_format(summary.resets_at, "MONTH_DAY_FORMAT"),
        }
    return gettext("%(usage)s.") % {"usage": line}


@require_GET
@login_required
@_missing_is_404(Project.DoesNotExist, texts.PROJECT_NOT_FOUND)
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A new chat; with ?project=<id>, one that starts in that project of the user's."""
    wanted = request.GET.get("project", "")
    project = None
    if wanted:
        if not (wanted.isascii() and wanted.isdigit()):  # "²" is a digit, and no int
            raise Project.DoesNotExist
        project = project_get(user=request.user, project_id=int(wanted))
    return render(request, "chat/chat.html", _chat_context(request, None, project))


@require_GET
@login_required
@_conversation_404
def conversation_detail(request: AuthenticatedHttpRequest, conversation_id: int) -> HttpResponse:
    conversation = conversation_get(user=request.user, conversation_id=conversation_id)
    # An answer whose process died must not show "Writing…" and lock the page forever.
    streams_interrupt_stale(conversation=conversation)
    return render(request, "chat/chat.html", _chat_context(request, conversation))


@require_GET
async def models(request: HttpRequest) -> HttpResponse:
    """The model picker's choices: every enabled provider's models, narrowed by the admin's
    lists and the user's allowed models. GET /models answers are cached; ?refresh=1 asks
    the providers again."""
    user = await request.auser()
    if not user.is_authenticated:
        return JsonResponse({"error": gettext("Log in first.")}, status=401)
    providers, allowed = await sync_to_async(model_sources)(user)
    choices = await model_choices(
        providers=providers, allowed=allowed, refresh=request.GET.get("refresh") == "1"
    )
    return JsonResponse(
        {
            "models": [asdict(choice) for choice in choices.models],
            "default": asdict(choices.default) if choices.default else None,
            "errors": choices.errors,
        }
    )


@require_GET
@login_required
def usage(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The signed-in user's own usage this month, and what is left of their limits."""
    summary = usage_summary(request.user)
    return JsonResponse({**summary.as_json(), "line": usage_line(summary)})


def _json_body(request: HttpRequest) -> Any:
    """The POSTed JSON. Malformed reads as no data, and the service says what is missing;
    nested too deep raises JSONTooDeep, answered by @_json_view."""
    try:
        return json_read(request.body or b"null")
    except JSONInvalid:
        return None


def _json_view(view: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
    """A view that reads a JSON body: too deep a body is a 400 that says why."""

    @wraps(view)
    def refusing_deep_json(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        try:
            return view(request, *args, **kwargs)
        except JSONTooDeep as exc:
            return JsonResponse({"ok": False, "error": str(exc)}, status=400)

    return refusing_deep_json


# Refused settings are answered 200 with their messages, as Django answers an invalid
# form: the request worked, the values did not.


@require_POST
@login_required
@_json_view
def settings_check(request: HttpRequest) -> JsonResponse:
    """Validate settings for a conversation not started yet: the first send carries them."""
    try:
        cleaned = settings_clean(_json_body(request))
        settings_tools_check(user=request.user, settings=cleaned)  # type: ignore[arg-type]
    except SettingsInvalid as exc:
        return JsonResponse({"ok": False, "errors": exc.errors})
    return JsonResponse({"ok": True, "settings": cleaned.as_dict()})


@require_POST
@login_required
@_json_view
@_conversation_404
def conversation_settings_update(
    request: AuthenticatedHttpRequest, conversation_id: int
) -> JsonResponse:
    try:
        saved = conversation_settings_save(
            user=request.user, conversation_id=conversation_id, data=_json_body(request)
        )
    except SettingsInvalid as exc:
        return JsonResponse({"ok": False, "errors": exc.errors})
    return JsonResponse({"ok": True, "settings": saved.as_dict()})


@require_POST
@login_required
@_json_view
@_conversation_404
def conversation_rename_view(
    request: AuthenticatedHttpRequest, conversation_id: int
) -> JsonResponse:
    data = _json_body(request)
    title = data.get("title") if isinstance(data, dict) else None
    try:
        conversation = conversation_rename(
            user=request.user, conversation_id=conversation_id, title=str(title or "")
        )
    except TitleInvalid as exc:
        return JsonResponse({"ok": False, "error": str(exc)})
    return JsonResponse({"ok": True, "title": conversation.title})


@require_POST
@login_required
@_conversation_404
def conversation_delete_view(
    request: AuthenticatedHttpRequest, conversation_id: int
) -> JsonResponse:
    try:
        conversation_delete(user=request.user, conversation_id=conversation_id)
    except GenerationInProgress:
        return JsonResponse({"ok": False, "error": texts.BUSY})
    return JsonResponse({"ok": True, "url": reverse("chat:home")})


@require_POST
@login_required
@_json_view
@_conversation_404
def conversation_pin_view(request: AuthenticatedHttpRequest, conversation_id: int) -> JsonResponse:
    """{"pinned": true} pins the conversation to the top of the list; false unpins it."""
    wanted = _json_flag(request, "pinned")
    if wanted is None:
        return JsonResponse({"ok": False, "error": texts.FLAG_INVALID.format(name="pinned")})
    pinned = conversation_pin(user=request.user, conversation_id=conversation_id, pinned=wanted)
    return JsonResponse({"ok": True, "pinned": pinned})


@require_POST
@login_required
@_json_view
@_conversation_404
def conversation_archive_view(
    request: AuthenticatedHttpRequest, conversation_id: int
) -> JsonResponse:
    """{"archived": true} takes the conversation out of the list; false restores it."""
    wanted = _json_flag(request, "archived")
    if wanted is None:
        return JsonResponse({"ok": False, "error": texts.FLAG_INVALID.format(name="archived")})
    archived = conversation_archive(
        user=request.user, conversation_id=conversation_id, archived=wanted
    )
    # Restored, it goes back to its place in the list, which is by this date.
    updated = conversation_get(user=request.user, conversation_id=conversation_id).updated_at
    return JsonResponse({"ok": True, "archived": archived, "updated": updated.isoformat()})


def _json_flag(request: HttpRequest, name: str) -> bool | None:
    """The body's boolean `name`; None when it is missing or not a boolean."""
    data = _json_body(request)
    value = data.get(name) if isinstance(data, dict) else None
    return value if isinstance(value, bool) else None


@require_GET
@login_required
def conversations_archived_view(request: AuthenticatedHttpRequest) -> JsonResponse:
    """The user's archived conversations, for the list's Archived section."""
    return JsonResponse(
        {
            "conversations": [
                {
                    "id": c.pk,
                    "title": c.title or gettext(TITLE_UNTITLED),
                    "url": reverse("chat:conversation", args=[c.pk]),
                }
                for c in conversations_archived(user=request.user)[:SIDEBAR_LIMIT]
            ]
        }
    )


@require_GET
@login_required
def conversation_search_view(request: AuthenticatedHttpRequest) -> JsonResponse:
    query = request.GET.get("q", "")[:SEARCH_MAX_CHARS]
    hits = conversation_search(user=request.user, query=query)
    return JsonResponse(
        {
            "results": [
                {
                    "id": hit.conversation.pk,
                    "title": hit.conversation.title or gettext(TITLE_UNTITLED),
                    "url": reverse("chat:conversation", args=[hit.conversation.pk]),
                    "snippet": hit.snippet,
                    "archived": hit.conversation.archived_at is not None,
                }
                for hit in hits
            ]
        }
    )


@require_GET
@login_required
@_conversation_404
def conversation_export(
    request: AuthenticatedHttpRequest, conversation_id: int, fmt: str
) -> HttpResponse:
    if fmt not in ("md", "json"):
        raise Http404(gettext("Export as Markdown (.md) or JSON (.json)."))
    conversation = conversation_get(user=request.user, conversation_id=conversation_id)
    branch = conversation_branch(conversation=conversation)
    if fmt == "md":
        names = _document_names(m.pk for m in branch if m.role == "user")
        response = HttpResponse(
            conversation_markdown(conversation=conversation, branch=branch, documents=names),
            content_type="text/markdown; charset=utf-8",
        )
    else:
        messages = conversation_messages(conversation=conversation)
        names = _document_names(m.pk for m in messages if m.role == "user")
        response = JsonResponse(
            conversation_json(
                conversation=conversation, messages=messages, branch=branch, documents=names
            ),
            json_dumps_params={"ensure_ascii": False, "indent": 2},
        )
    filename = export_filename(conversation, fmt)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_POST
@login_required
def attachment_upload(request: AuthenticatedHttpRequest) -> JsonResponse:
    """One image, checked and stored; the next send names it. Refusals say why."""
    upload = request.FILES.get("file")
    if upload is None:
        return JsonResponse({"ok": False, "error": texts.NO_FILE})
    if upload.size is not None and upload.size > settings.CHAT_IMAGE_MAX_BYTES:
        # Refused before reading it all into memory.
        return JsonResponse({"ok": False, "error": image_too_large(upload.size)})
    try:
        attachment = attachment_create(
            user=request.user, data=upload.read(), name=upload.name or ""
        )
    except AttachmentInvalid as exc:
        return JsonResponse({"ok": False, "error": str(exc)})
    return JsonResponse({"ok": True, "attachment": attachment_summary(attachment)})


@require_GET
@login_required
@_missing_is_404(Attachment.DoesNotExist, texts.IMAGE_NOT_FOUND)
def attachment_detail(request: AuthenticatedHttpRequest, attachment_id: int) -> HttpResponse:
    attachment = attachment_get(user=request.user, attachment_id=attachment_id)
    response = HttpResponse(bytes(attachment.data), content_type=attachment.content_type)
    response.headers["Cache-Control"] = "private, max-age=86400"
    response.headers["Content-Disposition"] = "inline"
    return response


def password_reset_enabled(
    view: Callable[..., HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    """A page of the password reset, which is a 404 while resets are off
    (settings.PASSWORD_RESET_ENABLED): a link printed to the server's log is no reset."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not settings.PASSWORD_RESET_ENABLED:
            raise Http404(gettext("Password resets are off on this site."))
        return view(request, *args, **kwargs)

    return wrapped


class LoginView(auth_views.LoginView):
    """Django's login, with a button per single sign-on provider; on an SSO-only site the
    password form is for the break-glass superuser only."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["sign_in_buttons"] = sign_in_buttons(self.request)
        context["sso_only"] = settings.SSO_ONLY
        return context


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("chat:home")
    invite = request.POST.get("invite") or request.GET.get("invite", "")
    try:
        signup_check(invite)
    except SignupClosed:
        raise Http404(gettext("Sign-up is closed on this site.")) from None
    except InviteInvalid:
        return render(request, "registration/signup_invite_needed.html", status=403)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = account_create(form=form, invite_code=invite)
        except (SignupClosed, InviteInvalid):
            return render(request, "registration/signup_invite_needed.html", status=403)
        login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
        return redirect("chat:home")
    return render(request, "registration/signup.html", {"form": form, "invite": invite})
