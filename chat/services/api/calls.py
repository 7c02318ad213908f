"""One API request's start and end: checked and counted like a sent message before the
provider is asked, and one usage row (purpose api, with its key) however it ends."""

from django.db import transaction
from django.utils import timezone

from chat.models import ApiCall, ApiKey, Message, Usage
from chat.services.api.access import api_access_check
from chat.services.providers import ModelNotAllowed, model_choice_check
from chat.services.usage.ledger import UsageCounts, usage_record
from chat.services.usage.limits import limits_check
from chat.upstream.provider import Provider


@transaction.atomic
def api_call_start(*, key: ApiKey, provider: Provider, model: str) -> ApiCall:
    """Raises ApiAccessOff, LimitReached, AccountInactive or ModelNotAllowed; else the
    running call, saved in the transaction whose limits check locked the user's row (and
    their teams'), so concurrent requests on any process are counted one after another
    and each holds its part of the budgets from here on."""
    api_access_check(key.user)
    allowance = limits_check(key.user, lock=True)
    model_choice_check(provider=provider, model=model, allowance=allowance)
    if key.allowed_models and model not in key.allowed_models:
        raise ModelNotAllowed(f"This API key may not use the model {model!r}.")
    return ApiCall.objects.create(user=key.user, api_key=key, provider=provider.name, model=model)


def api_call_alive(call_id: int) -> None:
    """A running call says it is alive (else, after a while, it holds nothing)."""
    ApiCall.objects.filter(pk=call_id, status=Message.Status.STREAMING).update(
        updated_at=timezone.now()
    )


@transaction.atomic
def api_call_finish(
    *,
    call: ApiCall,
    status: str,
    counts: UsageCounts | None,
    latency_ms: int | None = None,
    time_to_first_token_ms: int | None = None,
) -> None:
    """The call's usage row (none if no request reached the provider) and how it ended,
    together: its hold on the budgets gives way to its usage in one step."""
    if counts is not None:
        usage_record(
            user_id=call.user_id,
            conversation_id=None,
            message_id=None,
            purpose=Usage.Purpose.API,
            api_key_id=call.api_key_id,
            provider=call.provider,
            model=call.model,
            status=status,
            counts=counts,
            latency_ms=latency_ms,
            time_to_first_token_ms=time_to_first_token_ms,
        )
    ApiCall.objects.filter(pk=call.pk).update(status=status)
