"""A share link's token never reaches a log: chatsite's request log, Django's, daphne's
access log."""

import datetime
import io
import logging

from django.test import Client

from chatsite.serve import _redacted_access_log

TOKEN = "T9fhatGuIfmIE78TrCaSgMNrpher_YpEDKyNKuy88bE"


def test_the_site_logs_a_share_pages_requests_without_its_token(db, caplog):
    with caplog.at_level(logging.INFO):
        Client().get(f"/s/{TOKEN}/")  # missing: Django logs "Not Found" too
        Client().get(f"/s/{TOKEN}/images/3/")

    handler_filter = logging.getLogger().handlers[0].filters[0]
    written = [handler_filter.filter(r) and r.getMessage() for r in caplog.records]
    assert any("/s/[token]" in line for line in written)
    assert not any(TOKEN in line for line in written)


def test_daphnes_access_log_writes_share_pages_without_their_token():
    stream = io.StringIO()

    log = _redacted_access_log()(stream)
    log.write_entry("1.2.3.4", datetime.datetime.now(), f"GET /s/{TOKEN}/", 200, 10)

    assert "GET /s/[token]/" in stream.getvalue()
    assert TOKEN not in stream.getvalue()
