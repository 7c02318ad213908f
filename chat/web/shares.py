"""Share links over HTTP: make one for the conversation shown, revoke one, and the
shared page itself (read-only, rendered and sanitised like the chat page), its images,
and continuing it as a conversation of one's own. A wrong or revoked token answers
exactly like a missing page; another user's share id like a missing one."""

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from chat import texts
from chat.models import Attachment, Conversation, Share, User
from chat.services.conversations.sharing import (
    ShareRefused,
    share_continue,
    share_create,
    share_image,
    share_is_public,
    share_open,
    share_revoke,
)
from chat.web.authenticated import AuthenticatedHttpRequest
from chat.web.views import _conversation_404, _json_body, _json_view, _missing_is_404

_share_404 = _missing_is_404(Share.DoesNotExist, texts.SHARE_NOT_FOUND)
_image_404 = _missing_is_404(Attachment.DoesNotExist, texts.IMAGE_NOT_FOUND)


def share_summary(share: Share, request: HttpRequest) -> dict[str, object]:
    return {
        "id": share.pk,
        "url": request.build_absolute_uri(reverse("chat:share", args=[share.token])),
        "public": share.public,
        "messages": len(share.messages),
    }


@require_POST
@login_required
@_json_view
@_conversation_404
def share_create_view(request: AuthenticatedHttpRequest, conversation_id: int) -> JsonResponse:
    """{"include_images": bool, "public": bool}: a link to the selected branch as it is."""
    data = _json_body(request)
    data = data if isinstance(data, dict) else {}
    try:
        share = share_create(
            user=request.user,
            conversation_id=conversation_id,
            include_images=data.get("include_images") is True,
            public=data.get("public") is True,
        )
    except ShareRefused as exc:
        return JsonResponse({"ok": False, "error": str(exc)})
    return JsonResponse({"ok": True, "share": share_summary(share, request)})


@require_POST
@login_required
@_share_404
def share_revoke_view(request: AuthenticatedHttpRequest, share_id: int) -> HttpResponse:
    share_revoke(user=request.user, share_id=share_id)
    return HttpResponseRedirect(reverse("chat:data") + "#shares")


def _readable(request: HttpRequest, token: str) -> Share | HttpResponse:
    """The share, or the sign-in page for a link only people signed in may read."""
    share = share_open(token=token)
    if not request.user.is_authenticated and not share_is_public(share):
        return _private(redirect_to_login(request.get_full_path()))
    return share


def _private(response: HttpResponse) -> HttpResponse:
    # The token is in the address: never sent on to the sites its links lead to (but
    # sent to this site, whose CSRF check wants the Origin a form's POST then carries),
    # never kept by a cache (a revoked link must stop at once), never indexed.
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_GET
@_share_404
def share_page(request: HttpRequest, token: str) -> HttpResponse:
    share = _readable(request, token)
    if isinstance(share, HttpResponse):
        return share
    context = {"share": share, "by": share.user.get_username()}
    return _private(render(request, "chat/share.html", context))


@require_GET
@_share_404
@_image_404
def share_image_view(request: HttpRequest, token: str, attachment_id: int) -> HttpResponse:
    share = _readable(request, token)
    if isinstance(share, HttpResponse):
        return share
    image = share_image(share=share, attachment_id=attachment_id)
    response = HttpResponse(bytes(image.data), content_type=image.content_type)
    response["Content-Disposition"] = "inline"
    return _private(response)


@require_POST
@login_required
@_share_404
def share_continue_view(request: AuthenticatedHttpRequest, token: str) -> HttpResponse:
    """The shared branch copied into a new conversation of the reader's, opened."""
    user = request.user
    assert isinstance(user, User)
    conversation: Conversation = share_continue(user=user, share=share_open(token=token))
    return HttpResponseRedirect(reverse("chat:conversation", args=[conversation.pk]))
