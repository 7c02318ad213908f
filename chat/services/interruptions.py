"""The usage row of an answer whose process died: estimated by the sweep that marks it
interrupted, and withdrawn if that process turns out to be alive and saves its own."""

import uuid

from django.db.models import F
from django.utils import timezone

from chat.models import Usage, UsageDaily, UsageDailyModel

_NAMESPACE = uuid.UUID("6f1c2a52-8d7e-4b8e-9a57-3c1f0d2e9b41")


def interrupted_request_id(message_id: int) -> uuid.UUID:
    """The request id of the estimated row a sweep records for an answer: one per answer,
    so the ledger's unique request id refuses a second one whatever runs the sweep."""
    return uuid.uuid5(_NAMESPACE, f"answer-interrupted:{message_id}")


def interrupted_usage_withdraw(*, message_id: int) -> None:
    """The answer's process was alive after all (slow, not dead) and saves its own usage:
    remove the sweep's estimate and take it back out of the daily totals. Call it in the
    transaction of that final save."""
    swept = Usage.objects.filter(request_id=interrupted_request_id(message_id)).first()
    if swept is None:
        return
    day = timezone.localdate(swept.created_at)
    less = {
        "requests": F("requests") - 1,
        "estimated_requests": F("estimated_requests") - int(swept.estimated),
        "prompt_tokens": F("prompt_tokens") - swept.prompt_tokens,
        "completion_tokens": F("completion_tokens") - swept.completion_tokens,
        "cached_tokens": F("cached_tokens") - swept.cached_tokens,
        "reasoning_tokens": F("reasoning_tokens") - swept.reasoning_tokens,
        "cost": F("cost") - swept.cost,
    }
    keys = {"day": day, "provider": swept.provider, "model": swept.model}
    UsageDailyModel.objects.filter(**keys).update(**less)
    UsageDaily.objects.filter(**keys, user_id=swept.user_id).update(**less)
    swept.delete()
