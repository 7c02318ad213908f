from enum import StrEnum


class FailureKind(StrEnum):
    STATUS = "status"  # the provider answered with an HTTP error before streaming
    CONNECT = "connect"  # refused, unreachable, or no connection in time
    DROPPED = "dropped"  # the connection broke while the answer was coming
    STALLED = "stalled"  # no byte for the read timeout
    MALFORMED = "malformed"  # a chunk that is not valid JSON, or of the wrong shape
    PROVIDER = "provider"  # an `error` event in the stream


class UpstreamError(Exception):
    """Every failure talking to the provider, turned into one type.

    `retryable` says whether sending the same request again may succeed (429, 5xx,
    connection errors); the caller still must not retry once any token has arrived.
    `status_code` is the provider's HTTP status when it answered, and `retry_after` its
    Retry-After in seconds. `reached` says the request reached the provider (it answered
    200, or timed out or broke while reading the answer), so it read the prompt and bills
    it. The message is fit to show a user: the provider's own words, never the API key.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: FailureKind,
        retryable: bool,
        status_code: int | None = None,
        retry_after: float | None = None,
        reached: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.retryable = retryable
        self.status_code = status_code
        self.retry_after = retry_after
        self.reached = reached
