"""An answer longer than a websocket message (1 MiB) reaches the page whole: live, and
on subscribing mid-answer and after it ended. A real daphne process; the page's client
takes messages of at most 1 MiB, like daphne."""

import asyncio
import time

from tests.pages import Page
from tests.servers import FakeUpstreamServer, site_prepared, start_site, stop

WORD = "x" * 999 + " "
WORDS = 2200  # 2.2 million characters


async def test_an_answer_over_a_mebibyte_arrives_whole_live_mid_answer_and_after(
    fake_upstream_server: FakeUpstreamServer, tmp_path
):
    fake = fake_upstream_server
    fake.reset()
    env, cookie = await asyncio.to_thread(site_prepared, fake, tmp_path)
    site, port = await asyncio.to_thread(start_site, env)
    until = time.monotonic() + 100
    live, mid, after = Page(port, cookie), Page(port, cookie), Page(port, cookie)
    tasks = [asyncio.create_task(live.run(until))]
    try:
        fake.plan(text=WORD * WORDS, delay=0.003)
        await live.send({"type": "send", "content": "a long one"})
        await live.wait_for(lambda: live.answers, 10, "the answer starts")
        (answer_id,) = live.answers
        await live.wait_for(lambda: len(live.answers[answer_id].text) > 1_100_000, 40, "1 MB")
        mid.conversation_id = live.conversation_id
        tasks.append(asyncio.create_task(mid.run(until)))
        done = await live.wait_done(answer_id, 60)
        await mid.wait_done(answer_id, 10)
        after.conversation_id = live.conversation_id
        after.answers[answer_id] = type(live.answers[answer_id])()  # shown as streaming
        tasks.append(asyncio.create_task(after.run(until)))
        await after.wait_done(answer_id, 10)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        stop(site)

    whole = WORD * WORDS
    snapshot = next(f for f in mid.frames if f["type"] == "snapshot")
    print(f"snapshot {len(snapshot['content'])} chars; largest message {live.largest} bytes")
    assert done["status"] == "complete"
    assert done["content"] == whole
    assert live.answers[answer_id].built == whole, "the deltas carried it all"
    assert len(snapshot["content"]) > 1_048_576, "a snapshot over 1 MiB, whole"
    assert mid.answers[answer_id].built == whole
    assert mid.answers[answer_id].done["content"] == whole
    assert after.answers[answer_id].done["content"] == whole, "the saved answer, on subscribe"
    assert live.closes == mid.closes == after.closes == []
    assert max(live.largest, mid.largest, after.largest) <= 1_048_576
