"""Errors as OpenAI's API writes them, so every OpenAI client raises the right exception:
{"error": {"message", "type", "param", "code"}} with the matching status."""

from django.http import JsonResponse

# status -> OpenAI's error type for it
_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_denied",
    404: "invalid_request_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_exceeded",
    502: "api_error",
    503: "api_error",
    504: "api_error",
}


def api_error(
    status: int,
    message: str,
    *,
    code: str | None = None,
    param: str | None = None,
    retry_after: int | None = None,
) -> JsonResponse:
    response = JsonResponse(
        {
            "error": {
                "message": message,
                "type": _TYPES.get(status, "api_error"),
                "param": param,
                "code": code,
            }
        },
        status=status,
    )
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def key_invalid() -> JsonResponse:
    # The same answer for a missing, unknown, revoked or expired key.
    return api_error(
        401,
        "Incorrect API key provided. Make one in your chatsite settings, and send it as "
        "Authorization: Bearer <key>.",
        code="invalid_api_key",
    )
