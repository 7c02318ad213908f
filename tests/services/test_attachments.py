"""Images: checked to be what they claim, served only to their owner, and sent upstream as
image_url parts holding data: URLs of exactly the stored bytes."""

import base64
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from chat.models import Attachment, Message
from chat.services.answers.branches import message_edit
from chat.services.answers.sending import message_send
from chat.services.conversations.attachments import (
    AttachmentInvalid,
    AttachmentNotFound,
    attachment_create,
)
from tests.websocket import connect, receive_until


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (8, 6)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def data_url(content_type: str, data: bytes) -> str:
    return f"data:{content_type};base64,{base64.b64encode(data).decode()}"


# --- checking -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif"), ("WEBP", "image/webp")],
)
def test_each_allowed_image_type_is_stored_with_the_type_its_bytes_say(alice, fmt, content_type):
    data = image_bytes(fmt)
    attachment = attachment_create(user=alice, data=data, name="photo.jpg")

    assert attachment.content_type == content_type
    assert (attachment.width, attachment.height, attachment.size) == (8, 6, len(data))
    assert bytes(Attachment.objects.get(pk=attachment.pk).data) == data


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"just some text, named .png", "That file is not an image chatsite accepts"),
        (image_bytes("BMP"), "BMP images are not accepted; send gif, jpeg, png, webp."),
        (image_bytes("PNG")[:60], "That image is damaged and cannot be read."),
    ],
)
def test_what_is_not_an_accepted_image_is_refused_with_the_reason(alice, data, message):
    with pytest.raises(AttachmentInvalid) as caught:
        attachment_create(user=alice, data=data, name="x.png")
    assert str(caught.value).startswith(message)
    assert Attachment.objects.count() == 0


@pytest.mark.django_db
def test_an_image_over_the_size_limit_is_refused(alice, settings):
    settings.CHAT_IMAGE_MAX_BYTES = 100
    with pytest.raises(AttachmentInvalid, match=r"the limit is 0\.0 MB"):
        attachment_create(user=alice, data=image_bytes(size=(200, 200)))


@pytest.mark.django_db
def test_a_site_may_allow_fewer_types(alice, settings):
    settings.CHAT_IMAGE_TYPES = ["png"]
    with pytest.raises(AttachmentInvalid, match=r"GIF images are not accepted; send png\."):
        attachment_create(user=alice, data=image_bytes("GIF"))


# --- over HTTP ----------------------------------------------------------------------------


def _client(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def _upload(client: Client, data: bytes, name: str = "a.png", **extra):
    file = SimpleUploadedFile(name, data, content_type="image/png")
    return client.post(reverse("chat:attachment_upload"), {"file": file}, **extra)


@pytest.mark.django_db
def test_alice_uploads_an_image_and_only_she_can_see_it(alice, bob):
    data = image_bytes()
    reply = _upload(_client(alice), data).json()

    assert reply["ok"] is True
    url = reply["attachment"]["url"]
    assert url == reverse("chat:attachment", args=[reply["attachment"]["id"]])
    mine = _client(alice).get(url)
    assert (mine.status_code, mine["Content-Type"], mine.content) == (200, "image/png", data)
    assert mine["X-Content-Type-Options"] == "nosniff"
    theirs = _client(bob).get(url)
    assert theirs.status_code == 404
    assert data not in theirs.content


@pytest.mark.django_db
def test_a_refused_upload_says_why(alice, settings):
    settings.CHAT_IMAGE_MAX_BYTES = 1000
    too_big = _upload(_client(alice), image_bytes(size=(300, 300)) + b"\0" * 2000).json()
    not_image = _upload(_client(alice), b"hello", name="notes.png").json()

    assert too_big["ok"] is False
    assert "the limit is 0.0 MB" in too_big["error"]
    assert not_image == {
        "ok": False,
        "error": "That file is not an image chatsite accepts (gif, jpeg, png, webp).",
    }
    assert Attachment.objects.count() == 0


@pytest.mark.django_db
def test_uploading_needs_the_csrf_token(alice):
    client = _client(alice, enforce_csrf_checks=True)
    assert _upload(client, image_bytes()).status_code == 403
    assert Attachment.objects.count() == 0


# --- sent with a message --------------------------------------------------------------------


@pytest.mark.django_db
def test_an_edited_question_keeps_its_images(alice):
    data = image_bytes("GIF")
    attachment = attachment_create(user=alice, data=data)
    sent = message_send(
        user=alice, conversation_id=None, content="look", attachment_ids=[attachment.pk]
    )
    Message.objects.filter(pk=sent.assistant_message.pk).update(status="complete")

    edited = message_edit(user=alice, message_id=sent.user_message.pk, content="look again")

    assert edited.request.messages[-1]["content"] == [
        {"type": "text", "text": "look again"},
        {"type": "image_url", "image_url": {"url": data_url("image/gif", data)}},
    ]


@pytest.mark.django_db(transaction=True)
async def test_an_image_goes_upstream_as_a_data_url_of_its_bytes(upstream, alice):
    data = image_bytes("JPEG")
    attachment = await Attachment.objects.acreate(
        user=alice, content_type="image/jpeg", size=len(data), width=8, height=6, data=data
    )
    ws = await connect(alice)
    await ws.send_json_to(
        {"type": "send", "content": "What is this?", "attachment_ids": [attachment.pk]}
    )
    frames = await receive_until(ws, "done")
    conversation_id = frames[0]["conversation"]["id"]
    upstream.plan(tokens=1)
    await ws.send_json_to({"type": "send", "conversation_id": conversation_id, "content": "And?"})
    await receive_until(ws, "done")
    await ws.disconnect()

    question = frames[1]["message"]
    assert [a["id"] for a in question["attachments"]] == [attachment.pk]
    assert "data" not in question["attachments"][0]
    parts = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": data_url("image/jpeg", data)}},
    ]
    first, follow_up = upstream.log()
    assert first["body"]["messages"] == [{"role": "user", "content": parts}]
    assert follow_up["body"]["messages"][0] == {"role": "user", "content": parts}
    await attachment.arefresh_from_db()
    assert attachment.message_id == question["id"]


@pytest.mark.django_db(transaction=True)
async def test_bob_cannot_send_alices_image(upstream, alice, bob):
    data = image_bytes()
    attachment = await Attachment.objects.acreate(
        user=alice, content_type="image/png", size=len(data), width=8, height=6, data=data
    )
    ws = await connect(bob)
    await ws.send_json_to({"type": "send", "content": "mine?", "attachment_ids": [attachment.pk]})
    reply = await ws.receive_json_from()
    await ws.disconnect()

    assert reply == {
        "type": "error",
        "code": "not_found",
        "message": "Image not found: attach it again.",
    }
    assert await Message.objects.acount() == 0
    assert upstream.log() == []


@pytest.mark.django_db
def test_an_image_already_sent_cannot_be_sent_again(alice):
    attachment = attachment_create(user=alice, data=image_bytes())
    message_send(user=alice, conversation_id=None, content="one", attachment_ids=[attachment.pk])

    with pytest.raises(AttachmentNotFound):
        message_send(
            user=alice, conversation_id=None, content="two", attachment_ids=[attachment.pk]
        )
    assert Message.objects.count() == 2


@pytest.mark.django_db
def test_a_new_conversation_without_images_still_costs_three_inserts_and_no_other_query(alice):
    # The hot path under load: images, settings and branches add no query to it (the
    # limits check before it reads the user and the site's settings, nothing of ours).
    with CaptureQueriesContext(connection) as queries:
        message_send(user=alice, conversation_id=None, content="hello")

    ours = [
        q["sql"].split()[0]
        for q in queries.captured_queries
        if any(f'"chat_{table}"' in q["sql"] for table in ("conversation", "message", "attachment"))
    ]
    assert ours == ["INSERT"] * 3
