"""The ledger matches the bill: many answers through the fake upstream, ending every way,
and the usage rows add up to exactly what the upstream reported, estimates only where no
usage chunk arrived, and flagged."""

import pytest
from django.db.models import Sum

from chat.models import Usage, UsageDaily
from tests.conftest import generations_settle
from tests.websocket import connect, receive_until

pytestmark = pytest.mark.django_db(transaction=True)

COUNTS = ["prompt_tokens", "completion_tokens", "cached_tokens", "reasoning_tokens"]


async def _answer(ws, content: str) -> dict:
    await ws.send_json_to({"type": "send", "content": content})
    return (await receive_until(ws, "done"))[-1]


async def _stopped(ws, content: str) -> None:
    await ws.send_json_to({"type": "send", "content": content})
    frames = await receive_until(ws, "delta")
    message_id = next(f for f in frames if f["type"] == "delta")["message_id"]
    await ws.send_json_to({"type": "stop", "message_id": message_id})
    await receive_until(ws, "done")


async def _left(alice, content: str) -> None:
    """The page closes mid-answer; the answer goes on without it."""
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": content})
    await receive_until(ws, "delta")
    await ws.disconnect()


async def test_the_ledger_totals_equal_the_upstreams_reported_totals(upstream, alice, bob):
    ws = await connect(alice)
    endings = [
        ({"tokens": 12, "cached_tokens": 4}, "complete with cached tokens"),
        ({"tokens": 5, "reasoning": 6}, "complete with reasoning"),
        ({"tokens": 3, "tool_calls": [{"name": "f", "arguments": '{"a": 1}'}]}, "tool call"),
        ({"tokens": 9, "finish_reason": "length"}, "cut short"),
        ({"tokens": 20, "error_after": 4}, "provider error mid-stream"),
        ({"tokens": 20, "drop_after": 5}, "connection dropped"),
        ({"tokens": 20, "malformed_after": 3}, "malformed chunk"),
        ({"tokens": 6, "usage": False}, "no usage chunk"),
        ({"status": 400, "error_message": "bad request"}, "refused"),
    ]
    for plan, content in endings:
        upstream.plan(**plan)
        await _answer(ws, content)
    upstream.plan(status=429, retry_after="0")  # retried, then answered
    upstream.plan(tokens=4)
    await _answer(ws, "rate limited once")
    upstream.plan(tokens=400, delay=0.02)
    await _stopped(ws, "stopped by the user")
    await ws.disconnect()
    upstream.plan(tokens=30, delay=0.01)
    await _left(alice, "tab closed")
    ws_bob = await connect(bob)
    upstream.plan(tokens=8, cached_tokens=2)
    await _answer(ws_bob, "another user")
    await ws_bob.disconnect()
    await generations_settle()

    requests = [e for e in upstream.log() if e["path"].endswith("/chat/completions")]
    rows = [row async for row in Usage.objects.all()]
    # One row per upstream request, refused and retried ones included.
    assert len(rows) == len(requests) == len(endings) + 5

    billed = [e["usage_sent"] for e in requests if e["usage_sent"]]
    reported = {name: sum(u.get(name, 0) for u in billed) for name in ("prompt_tokens",)}
    reported["completion_tokens"] = sum(u["completion_tokens"] for u in billed)
    reported["cached_tokens"] = sum(u["prompt_tokens_details"]["cached_tokens"] for u in billed)
    reported["reasoning_tokens"] = sum(
        u["completion_tokens_details"]["reasoning_tokens"] for u in billed
    )
    exact = {name: sum(getattr(r, name) for r in rows if not r.estimated) for name in COUNTS}
    assert exact == reported

    # Estimates exactly where a stream was answered but no usage chunk reached us.
    streamed_without_usage = [
        e for e in requests if e["outcome"] != "rejected" and not e["usage_sent"]
    ]
    estimated = [r for r in rows if r.estimated]
    assert len(estimated) == len(streamed_without_usage) >= 4
    assert all(r.completion_tokens > 0 for r in estimated)
    # Requests refused before streaming bill nothing and estimate nothing.
    refused = [r for r in rows if r.status == "error" and r.prompt_tokens == 0]
    assert len(refused) == len([e for e in requests if e["outcome"] == "rejected"]) == 2

    # The daily totals (what the dashboard and limits read) agree with the ledger.
    daily = await UsageDaily.objects.aaggregate(*(Sum(n) for n in COUNTS), Sum("requests"))
    assert daily["requests__sum"] == len(rows)
    for name in COUNTS:
        assert daily[f"{name}__sum"] == sum(getattr(r, name) for r in rows)


async def test_titles_and_regenerations_are_in_the_ledger_like_answers(upstream, alice, settings):
    settings.CHAT_AUTO_TITLES = True
    upstream.plan(tokens=5)  # the answer
    upstream.plan(tokens=3)  # the title
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "name this"})
    done = (await receive_until(ws, "done"))[-1]
    await receive_until(ws, "title")
    upstream.plan(tokens=4, cached_tokens=2)
    await ws.send_json_to({"type": "regenerate", "message_id": done["message_id"]})
    await receive_until(ws, "done")
    await ws.disconnect()
    await generations_settle()

    rows = [row async for row in Usage.objects.order_by("id")]
    assert [row.purpose for row in rows] == ["answer", "title", "answer"]
    requests = [e for e in upstream.log() if e["path"].endswith("/chat/completions")]
    assert len(requests) == 3
    assert [r.completion_tokens for r in rows] == [
        e["usage_sent"]["completion_tokens"] for e in requests
    ]
    assert [r.prompt_tokens for r in rows] == [e["usage_sent"]["prompt_tokens"] for e in requests]
    assert not any(r.estimated for r in rows)
