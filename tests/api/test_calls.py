"""An API call's record: one usage row however it ends, an estimate of the messages'
text (never an image's bytes) where the provider sent no usage, and a call a dead
process left running closed at the next start."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chat.models import ApiCall, Usage, User
from chat.services.api.calls import CallOutcome, api_call_finish, api_calls_interrupt_stale
from chat.services.api.keys import api_key_create

pytestmark = pytest.mark.django_db

IMAGE = "data:image/png;base64," + "A" * 400_000


def a_call(user: User) -> ApiCall:
    key = api_key_create(user=user, name="k").key
    return ApiCall.objects.create(user=user, api_key=key, provider="default", model="gpt-4o")


def test_an_estimate_counts_the_messages_text_and_not_an_image_s_bytes(alice: User):
    call = a_call(alice)
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this picture?"},
                {"type": "image_url", "image_url": {"url": IMAGE}},
            ],
        }
    ]
    outcome = CallOutcome(
        status="interrupted", usage=None, messages=messages, generated="A cat.", reached=True
    )

    api_call_finish(call=call, outcome=outcome)

    row = Usage.objects.get()
    assert row.estimated is True
    assert 0 < row.prompt_tokens < 50
    assert row.completion_tokens > 0
    assert row.api_key_id == call.api_key_id
    call.refresh_from_db()
    assert call.status == "interrupted"


def test_a_call_the_provider_never_read_is_a_row_of_no_tokens(alice: User):
    call = a_call(alice)
    outcome = CallOutcome(
        status="error", usage=None, messages=[{"content": "x"}], generated="", reached=False
    )
    api_call_finish(call=call, outcome=outcome)
    row = Usage.objects.get()
    assert (row.prompt_tokens, row.completion_tokens, row.status) == (0, 0, "error")


def test_a_call_a_dead_process_left_running_is_closed(alice: User):
    stale, live = a_call(alice), a_call(alice)
    ApiCall.objects.filter(pk=stale.pk).update(updated_at=timezone.now() - timedelta(minutes=5))

    assert api_calls_interrupt_stale() == 1

    stale.refresh_from_db()
    live.refresh_from_db()
    assert stale.status == "interrupted"
    assert live.status == "streaming"
    (row,) = Usage.objects.all()
    assert row.estimated is True
