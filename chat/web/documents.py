"""A user's documents over HTTP: bring one (its text read off the event loop, in a process
of its own), list the library, read one's text page by page, delete one. Another user's
document id answers exactly like a missing one."""

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from chat import texts
from chat.documents.extraction import document_extract
from chat.documents.refusals import DocumentRefused, refused
from chat.models import Document, User
from chat.selectors import document_get, document_list, library_size
from chat.services.documents.embeddings import document_embed
from chat.services.documents.library import document_delete, document_save, document_summary
from chat.web.authenticated import AuthenticatedHttpRequest
from chat.web.views import _missing_is_404

_document_404 = _missing_is_404(Document.DoesNotExist, texts.DOCUMENT_NOT_FOUND)


@require_POST
@login_required
async def document_upload(request: HttpRequest) -> JsonResponse:
    """One document: its kind checked in its bytes, its text read within the limits, then
    saved in the user's library. A refusal says why, and nothing is saved."""
    user = await request.auser()
    assert isinstance(user, User)  # login_required let only a signed-in user through
    upload = request.FILES.get("file")
    if upload is None:
        return JsonResponse({"ok": False, "error": texts.NO_FILE})
    try:
        if upload.size is not None and upload.size > settings.CHAT_DOCUMENT_MAX_BYTES:
            raise refused("too_large")  # before the file is read into memory
        if await sync_to_async(library_size)(user=user) + (upload.size or 0) > (
            settings.CHAT_DOCUMENT_LIBRARY_BYTES
        ):
            raise refused("library_full")
        data = upload.read()
        name = upload.name or "document"
        extracted = await document_extract(data, name)
    except DocumentRefused as exc:
        return JsonResponse({"ok": False, "code": exc.code, "error": gettext(exc.message)})
    document = await sync_to_async(document_save)(
        user=user,
        name=name,
        data=data,
        extracted=extracted,
    )
    # Its passages' vectors, when embeddings are on; without them it is searched by words.
    await document_embed(user=user, document_id=document.pk)
    return JsonResponse({"ok": True, "document": document_summary(document)})


@require_GET
@login_required
def document_library(request: AuthenticatedHttpRequest) -> JsonResponse:
    documents = [document_summary(d) for d in document_list(user=request.user)]
    return JsonResponse({"documents": documents})


@require_GET
@login_required
@_document_404
def document_detail(request: AuthenticatedHttpRequest, document_id: int) -> JsonResponse:
    """The document's text as it was read, passage by passage, each with its page."""
    document = document_get(user=request.user, document_id=document_id)
    passages = [
        {"unit": p.unit, "n": p.unit_n, "label": p.label, "text": p.text}
        for p in document.passages.defer("embedding")
    ]
    return JsonResponse({"document": document_summary(document), "passages": passages})


@require_POST
@login_required
@_document_404
def document_delete_view(request: AuthenticatedHttpRequest, document_id: int) -> JsonResponse:
    document_delete(user=request.user, document_id=document_id)
    return JsonResponse({"ok": True})
