"""Prices: read from the admin's table, kept per process for a few seconds because every
final save needs one, and forgotten at once when a row changes."""

from decimal import Decimal

import pytest

from chat.models import ModelPrice
from chat.services.usage import ledger as usage
from chat.services.usage.ledger import Price, price_get

pytestmark = pytest.mark.django_db


def test_a_providers_own_price_beats_a_price_for_any_provider():
    ModelPrice.objects.create(model="m", input_per_million=1)
    ModelPrice.objects.create(provider="acme", model="m", input_per_million=2)
    assert price_get(provider="acme", model="m").input == 2
    assert price_get(provider="other", model="m").input == 1
    assert price_get(provider="acme", model="unpriced") == Price()


def test_prices_are_read_once_for_many_answers(django_assert_num_queries):
    ModelPrice.objects.create(model="m", output_per_million=3)
    with django_assert_num_queries(1):
        for _ in range(5):
            assert price_get(provider="", model="m").output == 3


def test_a_price_saved_or_deleted_applies_to_the_next_answer_at_once():
    assert price_get(provider="", model="m") == Price()
    price = ModelPrice.objects.create(model="m", cached_input_per_million=Decimal("0.5"))
    assert price_get(provider="", model="m").cached_input == Decimal("0.5")
    price.output_per_million = 7
    price.save()
    assert price_get(provider="", model="m").output == 7
    price.delete()
    assert price_get(provider="", model="m") == Price()


def test_a_price_changed_by_another_process_applies_once_the_copy_expires(monkeypatch):
    ModelPrice.objects.create(model="m", input_per_million=1)
    assert price_get(provider="", model="m").input == 1
    ModelPrice.objects.update(input_per_million=4)  # no signal: as if another process did it
    assert price_get(provider="", model="m").input == 1
    monkeypatch.setattr(usage.price_table, "ttl", 0.0)
    assert price_get(provider="", model="m").input == 4
