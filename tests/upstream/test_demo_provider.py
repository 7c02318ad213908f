"""With no provider configured, the offline demo provider answers, and the page says so."""

import pytest
from django.test import Client
from django.urls import reverse

from chat.models import Message, Usage
from chat.upstream.client import UpstreamClient
from chat.upstream.events import ContentDelta, Finish, UsageReport
from chat.upstream.provider import default_provider
from tests.websocket import connect, receive_until


@pytest.fixture
def demo(settings):
    settings.LLM_BASE_URL = ""
    settings.LLM_API_KEY = ""
    settings.LLM_MODEL = ""


async def test_the_demo_provider_streams_an_answer_offline(demo):
    provider = default_provider()
    assert provider.is_demo
    client = UpstreamClient(provider)
    body = {"model": "chatsite-demo", "messages": [{"role": "user", "content": "ping pong"}]}
    events = [event async for event in client.stream_chat(body)]

    text = "".join(e.text for e in events if isinstance(e, ContentDelta))
    assert "demo provider" in text
    assert '"ping pong"' in text
    assert sum(isinstance(e, ContentDelta) for e in events) > 10, "it should stream in pieces"
    assert Finish("stop") in events
    assert isinstance(events[-1], UsageReport)


@pytest.mark.django_db(transaction=True)
async def test_a_conversation_works_end_to_end_on_the_demo_provider(demo, alice, settings):
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "content": "hello demo"})
    done = (await receive_until(ws, "done"))[-1]
    await ws.disconnect()

    assert done["status"] == "complete"
    answer = await Message.objects.aget(pk=done["message_id"])
    assert "demo provider" in answer.content
    assert answer.model == "chatsite-demo"
    usage = await Usage.objects.aget(message=answer)
    assert usage.provider == "demo"
    assert usage.estimated is False


@pytest.mark.django_db
def test_the_page_is_labelled_as_a_demo(demo, alice):
    client = Client()
    client.force_login(alice)
    page = client.get(reverse("chat:home")).content.decode()
    assert 'id="demo-badge"' in page


@pytest.mark.django_db
def test_the_page_has_no_demo_label_with_a_real_provider(upstream, alice):
    client = Client()
    client.force_login(alice)
    page = client.get(reverse("chat:home")).content.decode()
    assert "demo-badge" not in page
