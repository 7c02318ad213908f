"""The user's own data page (/settings/data/): what they have here, how long it is kept,
and deleting all of it at once."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from chat import texts
from chat.selectors import shares_of
from chat.services.conversations.importing import ImportRefused, conversations_import
from chat.services.conversations.lifecycle import GenerationInProgress
from chat.services.conversations.retention import retention_days_of
from chat.services.user_data import user_data_count, user_data_delete
from chat.web.authenticated import AuthenticatedHttpRequest
from chat.web.shares import share_summary


def _page(request: AuthenticatedHttpRequest, status: int = 200, **extra: str) -> HttpResponse:
    context = {
        "data": user_data_count(user=request.user),
        "shares": [
            (share, share_summary(share, request)["url"]) for share in shares_of(user=request.user)
        ],
        "retention_days": retention_days_of(request.user),
        **extra,
    }
    return render(request, "chat/your_data.html", context, status=status)


@require_GET
@login_required
def your_data(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@login_required
def your_data_import(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A ChatGPT conversations.json or chatsite JSON export: all of it, or none."""
    upload = request.FILES.get("file")
    if upload is None:
        return _page(request, 400, error=str(texts.IMPORT_NO_FILE))
    try:
        imported = conversations_import(user=request.user, file=upload)
    except ImportRefused as exc:
        return _page(request, 400, error=texts.IMPORT_REFUSED.format(reason=exc))
    done = texts.IMPORTED.format(
        conversations=texts.number(imported.conversations),
        messages=texts.number(imported.messages),
    )
    return _done(request, done)


@require_POST
@login_required
def your_data_delete(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.POST.get("confirm") != "on":
        return _page(request, 400, error=str(texts.DATA_DELETE_UNCONFIRMED))
    try:
        deleted = user_data_delete(user=request.user)
    except GenerationInProgress:
        return _page(request, 409, error=str(texts.DATA_DELETE_BUSY))
    done = texts.DATA_DELETED.format(
        conversations=texts.number(deleted.conversations),
        documents=texts.number(deleted.documents),
    )
    return _done(request, done)


def _done(request: AuthenticatedHttpRequest, text: str) -> HttpResponse:
    """Said on the page it leads back to: reloading it does not send the form again
    (an import twice would import everything twice)."""
    messages.success(request, text)
    return HttpResponseRedirect(reverse("chat:data"))
