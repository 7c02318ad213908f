from decimal import Decimal

import pytest

from chat.models import Conversation, Message
from chat.services.usage.ledger import Price
from tests.conftest import usage_spent


@pytest.fixture
def ledger(alice, bob):
    conversation = Conversation.objects.create(user=alice, title="Budget talk")
    Message.objects.create(conversation=conversation, role="assistant", content="hi")
    price = Price(input=Decimal(2), output=Decimal(8))
    usage_spent(alice, prompt=100, completion=20, conversation=conversation, price=price)
    usage_spent(alice, prompt=50, completion=5, model="m2", conversation=conversation, price=price)
    usage_spent(bob, prompt=7, completion=1, status="stopped", price=price)
