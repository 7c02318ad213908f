class UpstreamError(Exception):
    """Every failure talking to the provider, turned into one type.

    `retryable` says whether sending the same request again may succeed (429, 5xx,
    connection errors). `status_code` is the provider's HTTP status when it answered.
    The message is fit to show a user: the provider's own words, never the API key.
    """

    def __init__(self, message: str, *, retryable: bool, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status_code = status_code
