"""/v1/models and /v1/chat/completions: thin async views. A key only in the
Authorization header; every refusal in OpenAI's error format."""

import json
from collections.abc import AsyncIterator, Callable, Coroutine
from functools import wraps
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    StreamingHttpResponse,
)
from django.utils import timezone, translation
from django.views.decorators.csrf import csrf_exempt

from chat.api.catalog import ApiModel, api_model_find, api_model_provider, api_models
from chat.api.errors import api_error, key_invalid
from chat.api.relay import ApiRelay
from chat.json_input import JSONInvalid, JSONTooDeep, json_read
from chat.models import ApiCall, ApiKey
from chat.services.api.access import ApiAccessOff, api_access_check
from chat.services.api.calls import api_call_start
from chat.services.api.keys import ApiKeyInvalid, api_key_authenticate
from chat.services.providers import ModelNotAllowed
from chat.services.usage.limits import AccountInactive, LimitReached
from chat.upstream.errors import FailureKind, UpstreamError
from chat.upstream.provider import Provider

KeyedView = Callable[[HttpRequest, ApiKey], Coroutine[Any, Any, HttpResponseBase]]

# A refusal for budgets held by requests in flight has no reset time: try again soon.
HELD_RETRY_SECONDS = 5


def _admitted(authorization: str | None) -> ApiKey:
    key = api_key_authenticate(authorization)
    api_access_check(key.user)
    return key


async def _key(request: HttpRequest) -> ApiKey | HttpResponse:
    # One trip to the database thread for both checks: each trip waits its turn there.
    try:
        key: ApiKey = await sync_to_async(_admitted)(request.headers.get("Authorization"))
    except ApiKeyInvalid:
        return key_invalid()
    except ApiAccessOff as exc:
        return api_error(403, str(exc), code="api_off")
    return key


def _keyed(
    method: str,
) -> Callable[[KeyedView], Callable[[HttpRequest], Coroutine[Any, Any, HttpResponseBase]]]:
    """An API view: its one method, and a key that may use the API (else the refusal)."""

    def decorate(view: KeyedView) -> Callable[[HttpRequest], Coroutine[Any, Any, HttpResponseBase]]:
        @csrf_exempt  # a key, not a cookie, says who asks
        @wraps(view)
        async def keyed(request: HttpRequest) -> HttpResponseBase:
            # Programs read the API's errors: English, whatever Accept-Language says
            # (the services' refusals are translated for the site's pages).
            with translation.override("en"):
                if request.method != method:
                    return api_error(405, f"Use {method}.")
                key = await _key(request)
                if isinstance(key, HttpResponse):
                    return key
                return await view(request, key)

        return keyed

    return decorate


@_keyed("GET")
async def models(request: HttpRequest, key: ApiKey) -> HttpResponseBase:
    listed = await api_models(key)
    data = [
        {"id": m.id, "object": "model", "created": 0, "owned_by": m.offered.provider_title}
        for m in listed
    ]
    return JsonResponse({"object": "list", "data": data})


def _limit_refused(exc: LimitReached) -> HttpResponse:
    if exc.resets_at is not None:
        wait = max(1, round((exc.resets_at - timezone.now()).total_seconds()))
    else:
        wait = HELD_RETRY_SECONDS
    return api_error(429, exc.message, code="limit_reached", retry_after=wait)


def _body(request: HttpRequest) -> dict[str, Any] | HttpResponse:
    try:
        raw = request.body
    except RequestDataTooBig:
        return api_error(
            413, f"The body is over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes.", code="too_big"
        )
    try:
        body = json_read(raw or b"null")
        # What cannot go on to the provider as JSON (NaN, a lone surrogate) is refused here.
        json.dumps(body, ensure_ascii=False, allow_nan=False).encode()
    except (JSONInvalid, JSONTooDeep, ValueError) as exc:
        return api_error(400, f"The body is not valid JSON: {exc}")
    if not isinstance(body, dict):
        return api_error(400, "The body must be a JSON object.")
    if not isinstance(body.get("model"), str) or not body["model"]:
        return api_error(400, "Give the model to use.", param="model")
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        return api_error(400, "Give the messages, a non-empty list.", param="messages")
    return body


def _started(key: ApiKey, found: ApiModel) -> tuple[Provider, ApiCall]:
    provider = api_model_provider(found)
    return provider, api_call_start(key=key, provider=provider, model=found.offered.model)


@_keyed("POST")
async def chat_completions(request: HttpRequest, key: ApiKey) -> HttpResponseBase:
    body = _body(request)
    if isinstance(body, HttpResponse):
        return body
    found = api_model_find(await api_models(key), body["model"])
    if found is None:
        return api_error(
            404,
            f"The model {body['model']!r} does not exist or you may not use it: "
            "GET /v1/models lists yours.",
            code="model_not_found",
            param="model",
        )
    try:
        provider, call = await sync_to_async(_started)(key, found)
    except LimitReached as exc:
        return _limit_refused(exc)
    except ModelNotAllowed as exc:
        return api_error(403, str(exc), code="model_not_allowed", param="model")
    except ApiAccessOff as exc:
        return api_error(403, str(exc), code="api_off")
    except AccountInactive:
        return key_invalid()
    options = body.get("stream_options")
    relay = ApiRelay(
        call=call,
        provider=provider,
        body=body,
        model_id=found.id,
        include_usage=isinstance(options, dict) and options.get("include_usage") is True,
    )
    if body.get("stream") is True:
        events = relay.stream()
        try:
            # The status is known once the provider has answered: a failure before the
            # first chunk is an error response with its status, not a stream.
            first = await anext(events)
        except UpstreamError as exc:
            await relay.finished()
            return _upstream_refused(exc)
        response = StreamingHttpResponse(_then(first, events), content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # nginx passes each event on at once
        return response
    try:
        completion = await relay.complete()
    except UpstreamError as exc:
        await relay.finished()
        return _upstream_refused(exc)
    await relay.finished()
    return JsonResponse(completion)


async def _then(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for event in rest:
        yield event


def _upstream_refused(exc: UpstreamError) -> HttpResponse:
    """The provider's failure, as the client should see it: its rate limit a 429 (with
    its Retry-After), its refusal of the request a 400 (the client's to fix, not to
    retry), a stall a 504, anything else a 502."""
    retry_after = None if exc.retry_after is None else max(1, round(exc.retry_after))
    if exc.status_code == 429:
        return api_error(429, exc.message, code="upstream_rate_limited", retry_after=retry_after)
    if exc.status_code is not None and 400 <= exc.status_code < 500:
        return api_error(400, exc.message, code="upstream_refused")
    if exc.kind == FailureKind.STALLED:
        return api_error(504, exc.message, code="upstream_timeout")
    return api_error(502, exc.message, code="upstream_error", retry_after=retry_after)
