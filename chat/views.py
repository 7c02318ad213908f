"""Thin views: scope every lookup to the signed-in user, build a context, render."""

from typing import Any

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from chat.forms import SignupForm
from chat.models import Conversation
from chat.selectors import conversation_get, conversation_list, conversation_messages
from chat.services.accounts import InviteInvalid, SignupClosed, account_create, signup_check
from chat.services.messages import streams_interrupt_stale

SIDEBAR_LIMIT = 200


def _conversation_for_user(request: HttpRequest, conversation_id: int) -> Conversation:
    try:
        return conversation_get(user=request.user, conversation_id=conversation_id)
    except Conversation.DoesNotExist:
        raise Http404("No such conversation.") from None


def _chat_context(request: HttpRequest, conversation: Conversation | None) -> dict[str, Any]:
    return {
        "conversations": conversation_list(user=request.user)[:SIDEBAR_LIMIT],
        "conversation": conversation,
        "messages": conversation_messages(conversation=conversation) if conversation else [],
        "chat_config": {
            "wsPath": "/ws/chat/",
            "conversationId": conversation.pk if conversation else None,
            "maxMessageChars": settings.CHAT_MAX_MESSAGE_CHARS,
        },
    }


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "chat/chat.html", _chat_context(request, None))


@require_GET
@login_required
def conversation_detail(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation_for_user(request, conversation_id)
    # An answer whose process died must not show "Writing…" and lock the page forever.
    streams_interrupt_stale(conversation=conversation)
    return render(request, "chat/chat.html", _chat_context(request, conversation))


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("chat:home")
    invite = request.POST.get("invite") or request.GET.get("invite", "")
    try:
        signup_check(invite)
    except SignupClosed:
        raise Http404("Sign-up is closed on this site.") from None
    except InviteInvalid:
        return render(request, "registration/signup_invite_needed.html", status=403)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = account_create(form=form, invite_code=invite)
        except (SignupClosed, InviteInvalid):
            return render(request, "registration/signup_invite_needed.html", status=403)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("chat:home")
    return render(request, "registration/signup.html", {"form": form, "invite": invite})
