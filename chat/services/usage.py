"""Token accounting: the provider's counts when it sent them, an estimate flagged as such."""

import functools
import math
import uuid
from dataclasses import dataclass
from decimal import Decimal

import bpe_openai
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from chat.models import ModelPrice, Usage, UsageDaily
from chat.upstream.events import UsageReport

# For models no tokenizer is known for: about four characters a token in English.
CHARS_PER_TOKEN = 4
# Families newer than the tokenizer package's own table, by name prefix.
_ENCODING_BY_PREFIX = [
    (("gpt-5", "gpt-4.1", "gpt-4o", "o1", "o3", "o4", "chatgpt-"), "o200k_base"),
    (("gpt-4", "gpt-3.5"), "cl100k_base"),
]


@dataclass(frozen=True)
class UsageCounts:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    estimated: bool = False

    @classmethod
    def from_report(cls, report: UsageReport) -> "UsageCounts":
        """The provider's own counts, from its usage chunk."""
        return cls(
            prompt_tokens=report.prompt_tokens,
            completion_tokens=report.completion_tokens,
            cached_tokens=report.cached_tokens,
            reasoning_tokens=report.reasoning_tokens,
        )


@functools.cache
def _encoding(model: str) -> bpe_openai.Encoding | None:
    name = model.rsplit("/", 1)[-1].lower()  # "openai/gpt-4o" on routers
    try:
        return bpe_openai.encoding_for_model(name)
    except (KeyError, ValueError, bpe_openai.UnsupportedModelError):
        pass
    for prefixes, encoding in _ENCODING_BY_PREFIX:
        if name.startswith(prefixes):
            return bpe_openai.get_encoding(encoding)
    return None


def tokens_estimate(text: str, model: str = "") -> int:
    """The model's own tokenizer where it is known, else about four characters a token."""
    if not text:
        return 0
    encoding = _encoding(model) if model else None
    if encoding is None:
        return math.ceil(len(text) / CHARS_PER_TOKEN)
    return len(encoding.encode(text))


def usage_estimate(*, prompt_text: str, completion_text: str, model: str = "") -> UsageCounts:
    return UsageCounts(
        prompt_tokens=tokens_estimate(prompt_text, model),
        completion_tokens=tokens_estimate(completion_text, model),
        estimated=True,
    )


# Usage.cost's precision.
COST_QUANTUM = Decimal("0.00000001")


@dataclass(frozen=True)
class Price:
    """Per million tokens, in the site's currency."""

    input: Decimal = Decimal(0)
    cached_input: Decimal = Decimal(0)
    output: Decimal = Decimal(0)

    def cost(self, counts: UsageCounts) -> Decimal:
        # Cached tokens are part of the prompt tokens, billed at their own rate; reasoning
        # tokens are part of the completion tokens.
        uncached = max(counts.prompt_tokens - counts.cached_tokens, 0)
        total = (
            uncached * self.input
            + counts.cached_tokens * self.cached_input
            + counts.completion_tokens * self.output
        )
        return (total / Decimal(1_000_000)).quantize(COST_QUANTUM)


def price_get(*, provider: str, model: str) -> Price:
    """The price in force now: the provider's own for the model, else any provider's, else 0."""
    rows = ModelPrice.objects.filter(Q(provider=provider) | Q(provider=""), model=model)
    row = max(rows, key=lambda r: r.provider == provider, default=None)
    if row is None:
        return Price()
    return Price(row.input_per_million, row.cached_input_per_million, row.output_per_million)


def usage_record(
    *,
    request_id: uuid.UUID | None = None,
    user_id: int,
    conversation_id: int | None,
    message_id: int | None,
    purpose: str,
    provider: str,
    model: str,
    status: str,
    counts: UsageCounts,
    latency_ms: int | None = None,
    time_to_first_token_ms: int | None = None,
    price: Price | None = None,
) -> Usage:
    """One ledger row, its cost fixed from `price` (else the price in force now), and the
    same counts added to the day's total, in one transaction."""
    if price is None:
        price = price_get(provider=provider, model=model)
    with transaction.atomic():
        usage = Usage.objects.create(
            request_id=request_id or uuid.uuid4(),
            user_id=user_id,
            conversation_id=conversation_id,
            message_id=message_id,
            purpose=purpose,
            provider=provider,
            model=model,
            status=status,
            prompt_tokens=counts.prompt_tokens,
            completion_tokens=counts.completion_tokens,
            cached_tokens=counts.cached_tokens,
            reasoning_tokens=counts.reasoning_tokens,
            estimated=counts.estimated,
            latency_ms=latency_ms,
            time_to_first_token_ms=time_to_first_token_ms,
            cost=price.cost(counts),
        )
        usage_daily_add(usage)
    return usage


def usage_daily_add(usage: Usage) -> None:
    """Add one ledger row to its day's total (created on the day's first request)."""
    key = {
        "user_id": usage.user_id,
        "day": timezone.localdate(usage.created_at),
        "provider": usage.provider,
        "model": usage.model,
    }
    increments = {
        "requests": F("requests") + 1,
        "prompt_tokens": F("prompt_tokens") + usage.prompt_tokens,
        "completion_tokens": F("completion_tokens") + usage.completion_tokens,
        "cached_tokens": F("cached_tokens") + usage.cached_tokens,
        "reasoning_tokens": F("reasoning_tokens") + usage.reasoning_tokens,
        "estimated_requests": F("estimated_requests") + int(usage.estimated),
        "cost": F("cost") + usage.cost,
    }
    if UsageDaily.objects.filter(**key).update(**increments):
        return
    try:
        with transaction.atomic():
            UsageDaily.objects.create(
                **key,
                requests=1,
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                cached_tokens=usage.cached_tokens,
                reasoning_tokens=usage.reasoning_tokens,
                estimated_requests=int(usage.estimated),
                cost=usage.cost,
            )
    except IntegrityError:  # another request created the day's row first
        UsageDaily.objects.filter(**key).update(**increments)


def usage_daily_rebuild() -> int:
    """Recompute every day's totals from the ledger (after a bulk import, or to repair)."""
    with transaction.atomic():
        UsageDaily.objects.all().delete()
        days = (
            Usage.objects.annotate(day=TruncDate("created_at"))
            .values("user_id", "day", "provider", "model")
            .annotate(
                n=Count("id"),
                prompt=Sum("prompt_tokens"),
                completion=Sum("completion_tokens"),
                cached=Sum("cached_tokens"),
                reasoning=Sum("reasoning_tokens"),
                estimates=Count("id", filter=Q(estimated=True)),
                total_cost=Sum("cost"),
            )
            .order_by()
        )
        rows = [
            UsageDaily(
                user_id=d["user_id"],
                day=d["day"],
                provider=d["provider"],
                model=d["model"],
                requests=d["n"],
                prompt_tokens=d["prompt"],
                completion_tokens=d["completion"],
                cached_tokens=d["cached"],
                reasoning_tokens=d["reasoning"],
                estimated_requests=d["estimates"],
                cost=d["total_cost"],
            )
            for d in days
        ]
        UsageDaily.objects.bulk_create(rows, batch_size=2000)
    return len(rows)
