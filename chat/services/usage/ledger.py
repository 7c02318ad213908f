"""Token accounting: the provider's counts when it sent them, an estimate flagged as such."""

import functools
import math
import uuid
from dataclasses import dataclass
from decimal import Decimal

import bpe_openai
from django.db import connection, transaction
from django.db.models import Aggregate, Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from chat.caching import Expiring
from chat.models import DailyTotals, ModelPrice, Usage, UsageDaily, UsageDailyModel, UsageTotals
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


def _price_table_load() -> dict[tuple[str, str], Price]:
    return {
        (row.provider, row.model): Price(
            row.input_per_million, row.cached_input_per_million, row.output_per_million
        )
        for row in ModelPrice.objects.all()
    }


# Prices are read on every final save; an admin's change applies within 5 s. Reading the
# table per answer cost more than any other query of the final save (docs/benchmarks.md).
# The price table, kept per process for 5 s: every final save needs a price.
price_table = Expiring(_price_table_load, ttl=5.0)


def prices_forget() -> None:
    price_table.forget()


def price_find(*, provider: str, model: str) -> Price | None:
    """The price in force now: the provider's own for the model, else any provider's, else
    None (unpriced). A price of 0 is a free model, not an unpriced one."""
    table = price_table.get()
    for key in ((provider, model), ("", model)):
        if key in table:
            return table[key]
    return None


def price_get(*, provider: str, model: str) -> Price:
    """The price in force now, 0 for an unpriced model."""
    return price_find(provider=provider, model=model) or Price()


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
    api_key_id: int | None = None,
) -> Usage:
    """One ledger row, its cost fixed from `price` (else the price in force now), and the
    same counts added to the day's total, in one transaction."""
    if price is None:
        price = price_get(provider=provider, model=model)
    # Joins the caller's transaction without a savepoint of its own.
    with transaction.atomic(savepoint=False):
        usage = Usage.objects.create(
            request_id=request_id or uuid.uuid4(),
            user_id=user_id,
            conversation_id=conversation_id,
            message_id=message_id,
            purpose=purpose,
            api_key_id=api_key_id,
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


_SUMS = [
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "reasoning_tokens",
]


def usage_daily_add(usage: Usage) -> None:
    """Add one ledger row to its day's totals: per model, and per user and model."""
    day = connection.ops.adapt_datefield_value(timezone.localdate(usage.created_at))
    amounts = [getattr(usage, name) for name in _SUMS]
    amounts += [1, int(usage.estimated), connection.ops.adapt_decimalfield_value(usage.cost)]
    with connection.cursor() as cursor:
        cursor.execute(_upsert_sql(UsageDailyModel), [day, usage.provider, usage.model, *amounts])
        cursor.execute(
            _upsert_sql(UsageDaily), [day, usage.provider, usage.model, usage.user_id, *amounts]
        )


@functools.cache
def _upsert_sql(table: type[UsageTotals]) -> str:
    """One statement that creates the day's row or adds to it, on SQLite and PostgreSQL
    alike. Built once: on the final save of every answer, the ORM's UPDATE with seven
    F() expressions (and an INSERT on the day's first request) cost 8% of the server's CPU
    under the relay benchmark."""
    quote = connection.ops.quote_name
    keys = ["day", "provider", "model"] + (["user_id"] if table is UsageDaily else [])
    sums = [*_SUMS, "requests", "estimated_requests", "cost"]
    name = quote(table._meta.db_table)
    columns = ", ".join(quote(c) for c in keys + sums)
    marks = ", ".join(["%s"] * (len(keys) + len(sums)))
    conflict = ", ".join(quote(c) for c in keys)
    adds = ", ".join(f"{quote(c)} = {name}.{quote(c)} + EXCLUDED.{quote(c)}" for c in sums)
    # Only quoted names from the models go into the text; every value is a parameter.
    return (
        f"INSERT INTO {name} ({columns}) VALUES ({marks}) "  # noqa: S608
        f"ON CONFLICT ({conflict}) DO UPDATE SET {adds}"
    )


def usage_daily_rebuild() -> int:
    """Recompute every day's totals from the ledger (after a bulk import, or to repair);
    returns how many per-user rows there are."""
    sums = {
        "requests": Count("id"),
        "estimated_requests": Count("id", filter=Q(estimated=True)),
        "cost": Sum("cost"),
        **{name: Sum(name) for name in _SUMS},
    }
    with transaction.atomic():
        counted = _daily_rebuild(UsageDaily, ["user_id", "day", "provider", "model"], sums)
        _daily_rebuild(UsageDailyModel, ["day", "provider", "model"], sums)
    return counted


def _daily_rebuild(table: type[DailyTotals], key: list[str], sums: dict[str, Aggregate]) -> int:
    """One table of daily sums, emptied and summed again from the ledger; returns its rows."""
    table.objects.all().delete()
    groups = (
        Usage.objects.annotate(day=TruncDate("created_at"))
        .values(*key)
        .annotate(**{f"total_{name}": total for name, total in sums.items()})
        .order_by()
    )
    rows = [
        table(
            **{name: group[name] for name in key},
            **{name: group[f"total_{name}"] for name in sums},
        )
        for group in groups.iterator(chunk_size=5000)
    ]
    table.objects.bulk_create(rows, batch_size=2000)
    return len(rows)
