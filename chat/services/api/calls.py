"""One API request's start and end: checked and counted like a sent message before the
provider is asked, and one usage row (purpose api, with its key) however it ends."""

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from chat.models import ApiCall, ApiKey, Message, Usage
from chat.services.answers.heartbeat import STALE_STREAM_AFTER
from chat.services.answers.requests import messages_text
from chat.services.api.access import api_access_check
from chat.services.providers import model_choice_check
from chat.services.usage.ledger import UsageCounts, usage_estimate, usage_record
from chat.services.usage.limits import limits_check
from chat.upstream.provider import Provider


@transaction.atomic
def api_call_start(*, key: ApiKey, provider: Provider, model: str) -> ApiCall:
    """Raises ApiAccessOff, LimitReached, AccountInactive or ModelNotAllowed; else the
    running call, saved in the transaction whose limits check locked the user's row (and
    their teams'), so concurrent requests on any process are counted one after another
    and each holds its part of the budgets from here on. (A key's own list of models
    narrows what it is offered: chat/api/catalog.py.)"""
    api_access_check(key.user)
    allowance = limits_check(key.user, lock=True)
    model_choice_check(provider=provider, model=model, allowance=allowance)
    return ApiCall.objects.create(user=key.user, api_key=key, provider=provider.name, model=model)


def api_call_alive(call_id: int) -> None:
    """A running call says it is alive (else, after a while, it holds nothing)."""
    ApiCall.objects.filter(pk=call_id, status=Message.Status.STREAMING).update(
        updated_at=timezone.now()
    )


@dataclass(frozen=True)
class CallOutcome:
    """How a call ended, as the relay saw it."""

    status: str
    usage: UsageCounts | None  # the provider's own counts, if it sent them
    messages: list[Any]  # the request's, for an estimate when it did not
    generated: str  # what the provider sent before the end
    reached: bool  # the provider read the prompt (it bills it)
    latency_ms: int | None = None
    time_to_first_token_ms: int | None = None

    def counts(self, model: str) -> UsageCounts:
        """The provider's counts; else an estimate (flagged) of what it read and wrote;
        zero when it never read the prompt."""
        if self.usage is not None:
            return self.usage
        if not self.reached and not self.generated:
            return UsageCounts()
        return usage_estimate(
            prompt_text=messages_text(self.messages), completion_text=self.generated, model=model
        )


@transaction.atomic
def api_call_finish(*, call: ApiCall, outcome: CallOutcome) -> None:
    """The call's usage row, however it ended (one per request), and its status,
    together: its hold on the budgets gives way to its usage in one step."""
    usage_record(
        user_id=call.user_id,
        conversation_id=None,
        message_id=None,
        purpose=Usage.Purpose.API,
        api_key_id=call.api_key_id,
        provider=call.provider,
        model=call.model,
        status=outcome.status,
        counts=outcome.counts(call.model),
        latency_ms=outcome.latency_ms,
        time_to_first_token_ms=outcome.time_to_first_token_ms,
    )
    ApiCall.objects.filter(pk=call.pk).update(status=outcome.status)


def api_calls_interrupt_stale(*, older_than: datetime.timedelta | None = STALE_STREAM_AFTER) -> int:
    """Calls a process that died left running (not alive for `older_than`; None: all):
    marked interrupted, each with a usage row of no tokens, flagged as estimated, since
    what the provider read and wrote died with the process."""
    calls = ApiCall.objects.filter(status=Message.Status.STREAMING)
    if older_than is not None:
        calls = calls.filter(updated_at__lt=timezone.now() - older_than)
    count = 0
    for call in calls:
        with transaction.atomic():
            if not ApiCall.objects.filter(pk=call.pk, status=Message.Status.STREAMING).exists():
                continue  # finished meanwhile
            outcome = CallOutcome(
                status=Message.Status.INTERRUPTED,
                usage=UsageCounts(estimated=True),
                messages=[],
                generated="",
                reached=False,
            )
            api_call_finish(call=call, outcome=outcome)
            count += 1
    return count
