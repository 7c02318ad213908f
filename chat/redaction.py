"""What must not reach a log: a share link's token, which opens the shared conversation
to whoever holds it. The request log, Django's own ("Not Found: /s/…") and daphne's
access log all go through here."""

import logging
import re

# A share page's path (chat/web/urls.py: s/<token>/…).
_SHARE_TOKEN = re.compile(r"/s/[^/\s\"?]+")
REDACTED = "/s/[token]"


def share_tokens_redacted(text: str) -> str:
    return _SHARE_TOKEN.sub(REDACTED, text)


class ShareTokenFilter(logging.Filter):
    """A logging filter (settings.LOGGING's handlers) that takes share tokens out of
    every record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/s/" in message:
            record.msg, record.args = share_tokens_redacted(message), ()
        return True
