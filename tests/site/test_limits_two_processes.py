"""Limits hold exactly when sends race on two server processes sharing PostgreSQL."""

import asyncio
import json
import os

import pytest

from tests.servers import (
    FakeUpstreamServer,
    site_prepared,
    site_query,
    site_sessions,
    site_socket,
    sites_started,
    socket_next_frame,
    stop,
)

pytestmark = pytest.mark.skipif(
    not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")),
    reason="several processes need PostgreSQL and Redis: the services pass (make test) runs it",
)

SENDS = 20


def limits_set(env: dict[str, str], **limits: int) -> None:
    fields = ", ".join(f"{name}={value}" for name, value in limits.items())
    site_query(
        env,
        "from chat.models import User, UserLimits\n"
        f"UserLimits.objects.create(user=User.objects.get(), {fields})\n"
        "result = 1",
    )


async def burst(ports: list[int], cookie: str) -> list[dict]:
    """SENDS new conversations at once, one socket each, spread over the processes."""

    async def one(port: int) -> dict:
        async with site_socket(port, cookie) as ws:
            await ws.send(json.dumps({"type": "send", "content": "go"}))
            return await socket_next_frame(ws, {"conversation", "error"})

    return await asyncio.gather(*(one(ports[i % len(ports)]) for i in range(SENDS)))


async def two_sites(fake: FakeUpstreamServer, tmp_path, **limits: int):
    env, cookie = await asyncio.to_thread(site_prepared, fake, tmp_path)
    await asyncio.to_thread(limits_set, env, **limits)
    sites = await sites_started(env)
    return env, cookie, sites


async def test_answers_at_once_hold_exactly_across_two_processes(
    fake_upstream_server: FakeUpstreamServer, tmp_path
):
    fake_upstream_server.reset()
    for _ in range(SENDS):  # long answers: none ends during the burst
        fake_upstream_server.plan(tokens=300, delay=0.05)
    _, cookie, sites = await two_sites(fake_upstream_server, tmp_path, concurrent_generations=3)
    try:
        replies = await burst([port for _, port in sites], cookie)
    finally:
        for process, _ in sites:
            stop(process)

    started = [r for r in replies if r["type"] == "conversation"]
    refused = [r for r in replies if r["type"] == "error"]
    assert len(started) == 3, f"{len(started)} answers started with 3 allowed at once"
    assert {r["code"] for r in refused} == {"limit_reached"}
    assert len(refused) == SENDS - 3


async def test_requests_per_minute_hold_exactly_across_two_processes(
    fake_upstream_server: FakeUpstreamServer, tmp_path
):
    fake_upstream_server.reset()
    for _ in range(SENDS):
        fake_upstream_server.plan(tokens=2, delay=0.0)
    env, cookie, sites = await two_sites(fake_upstream_server, tmp_path, requests_per_minute=5)
    try:
        replies = await burst([port for _, port in sites], cookie)
    finally:
        for process, _ in sites:
            stop(process)

    started = [r for r in replies if r["type"] == "conversation"]
    assert len(started) == 5, f"{len(started)} answers started with 5 a minute allowed"
    assert {r["code"] for r in replies if r["type"] == "error"} == {"limit_reached"}
    saved = await asyncio.to_thread(
        site_query,
        env,
        "from chat.models import Message\n"
        "result = Message.objects.filter(role='assistant').count()",
    )
    assert saved == 5


ANSWERED = f"""
from chat.models import Conversation, Message, User
user = User.objects.get()
result = []
for i in range({SENDS}):
    conversation = Conversation.objects.create(user=user, title=f"c{{i}}")
    question = Message.objects.create(conversation=conversation, role="user", content="q")
    answer = Message.objects.create(
        conversation=conversation, parent=question, role="assistant", content="a",
        status="complete",
    )
    result.append(answer.pk)
"""


async def test_regenerates_hold_answers_at_once_exactly_across_two_processes(
    fake_upstream_server: FakeUpstreamServer, tmp_path
):
    fake_upstream_server.reset()
    for _ in range(SENDS):
        fake_upstream_server.plan(tokens=300, delay=0.05)
    env, cookie = await asyncio.to_thread(site_prepared, fake_upstream_server, tmp_path)
    answers = await asyncio.to_thread(site_query, env, ANSWERED)
    await asyncio.to_thread(limits_set, env, concurrent_generations=3)
    sites = await sites_started(env)
    ports = [port for _, port in sites]

    async def regenerate(i: int) -> dict:
        async with site_socket(ports[i % 2], cookie) as ws:
            await ws.send(json.dumps({"type": "regenerate", "message_id": answers[i]}))
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 20))
                if frame["type"] in ("branch", "error"):
                    return frame

    try:
        replies = await asyncio.gather(*(regenerate(i) for i in range(SENDS)))
    finally:
        for process, _ in sites:
            stop(process)

    started = [r for r in replies if r["type"] == "branch"]
    assert len(started) == 3, f"{len(started)} answers started with 3 allowed at once"
    assert {r["code"] for r in replies if r["type"] == "error"} == {"limit_reached"}


TEAM_SPENT = """
from django.contrib.auth.models import Group
from chat.models import GroupLimits, User
from chat.services.usage.ledger import UsageCounts, usage_record
group = Group.objects.create(name="Research")
group.user_set.add(*User.objects.all())
GroupLimits.objects.create(group=group, team_monthly_tokens=1000)
for user in User.objects.all():  # 600 tokens each: 1,200 together
    usage_record(
        user_id=user.pk, conversation_id=None, message_id=None, purpose="answer",
        provider="default", model="chatsite-demo", status="complete",
        counts=UsageCounts(prompt_tokens=500, completion_tokens=100),
    )
result = 1
"""


async def team_burst(
    fake: FakeUpstreamServer, tmp_path, seed: str, **env_extra: str
) -> tuple[dict[str, str], list[dict]]:
    """Two members of a team (as `seed` makes it), each sending SENDS at once, spread over
    two processes in opposite orders: the site's environment and every reply."""
    env, first = await asyncio.to_thread(site_prepared, fake, tmp_path)
    (second,) = await asyncio.to_thread(site_sessions, env, 1)
    await asyncio.to_thread(site_query, env, seed)
    env.update(env_extra)
    sites = await sites_started(env)
    ports = [port for _, port in sites]
    try:
        of_first, of_second = await asyncio.gather(
            burst(ports, first), burst(list(reversed(ports)), second)
        )
    finally:
        for process, _ in sites:
            stop(process)
    return env, [*of_first, *of_second]


async def test_a_used_team_budget_refuses_every_member_s_sends_across_two_processes(
    fake_upstream_server: FakeUpstreamServer, tmp_path
):
    fake_upstream_server.reset()
    env, replies = await team_burst(fake_upstream_server, tmp_path, TEAM_SPENT)

    assert {r["type"] for r in replies} == {"error"}
    assert {r["code"] for r in replies} == {"limit_reached"}
    assert all(
        "Your group Research has used" in r["message"] and "of its 1,000" in r["message"]
        for r in replies
    )
    saved = await asyncio.to_thread(
        site_query, env, "from chat.models import Message\nresult = Message.objects.count()"
    )
    assert saved == 0, "nothing saved for a refused send"


TEAM_NEARLY_SPENT = TEAM_SPENT.replace(
    "prompt_tokens=500, completion_tokens=100", "prompt_tokens=300, completion_tokens=50"
)


async def test_members_sending_at_once_never_take_more_than_the_team_budget_has_left(
    fake_upstream_server: FakeUpstreamServer, tmp_path
):
    fake_upstream_server.reset()
    for _ in range(2 * SENDS):  # long answers: none ends during the burst
        fake_upstream_server.plan(tokens=300, delay=0.05)
    # 700 of the team's 1,000 tokens used; each answer in flight holds 100 of the rest.
    _, replies = await team_burst(
        fake_upstream_server, tmp_path, TEAM_NEARLY_SPENT, BUDGET_HOLD_TOKENS="100"
    )

    started = [r for r in replies if r["type"] == "conversation"]
    refused = [r for r in replies if r["type"] == "error"]
    assert len(started) == 3, f"{len(started)} answers started with room for 3 holds"
    assert {r["code"] for r in refused} == {"limit_reached"}
    assert all("group Research's budget" in r["message"] for r in refused)
