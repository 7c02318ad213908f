"""Several providers: the default from the environment, others added in the admin with
encrypted keys; a model picker filled from GET /models, narrowed by admins."""

import logging

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse

from chat.models import Conversation, Provider, Usage, UserLimits
from chat.services.providers import provider_key_set
from tests.servers import FAKE_API_KEY
from tests.websocket import connect, receive_until


def _provider(base_url: str, key: str = FAKE_API_KEY, **fields) -> Provider:
    provider = Provider(slug="acme", name="Acme AI", base_url=base_url, **fields)
    provider_key_set(provider, key)
    provider.save()
    return provider


@pytest.fixture
def alice_client(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.mark.django_db
class TestModelPicker:
    def test_it_lists_the_default_providers_models_from_get_models(self, upstream, alice_client):
        data = alice_client.get(reverse("chat:models")).json()
        assert [(m["provider"], m["model"]) for m in data["models"]] == [
            ("", "chatsite-demo"),
            ("", "chatsite-demo-large"),
        ]
        assert data["default"]["model"] == "chatsite-demo"

    def test_the_list_is_cached_and_refreshable(self, upstream, alice_client):
        alice_client.get(reverse("chat:models"))
        alice_client.get(reverse("chat:models"))
        assert upstream.models_requests() == 1
        alice_client.get(reverse("chat:models"), {"refresh": "1"})
        assert upstream.models_requests() == 2

    def test_admins_narrow_the_models_per_provider_and_per_user(
        self, upstream, alice, alice_client
    ):
        _provider(upstream.base_url, enabled_models=["acme-1", "acme-2"])
        UserLimits.objects.create(user=alice, allowed_models=["chatsite-demo", "acme-2"])
        data = alice_client.get(reverse("chat:models")).json()
        assert [(m["provider"], m["model"]) for m in data["models"]] == [
            ("", "chatsite-demo"),
            ("acme", "acme-2"),
        ]

    def test_a_provider_that_cannot_list_models_is_reported_not_fatal(self, upstream, alice_client):
        _provider("http://127.0.0.1:9/v1")
        data = alice_client.get(reverse("chat:models")).json()
        assert [m["model"] for m in data["models"]] == ["chatsite-demo", "chatsite-demo-large"]
        assert len(data["errors"]) == 1
        assert data["errors"][0].startswith("Acme AI:")

    def test_it_needs_a_signed_in_user(self, client):
        assert client.get(reverse("chat:models")).status_code == 401

    def test_no_key_reaches_the_page_or_the_model_list(self, upstream, alice_client, alice):
        _provider(upstream.base_url, key="sk-acme-secret-key-9876")
        conversation = Conversation.objects.create(user=alice, provider="acme", model="m")
        for url in [
            reverse("chat:home"),
            reverse("chat:conversation", args=[conversation.pk]),
            reverse("chat:models"),
        ]:
            body = alice_client.get(url).content.decode()
            assert "sk-acme-secret" not in body
            assert FAKE_API_KEY not in body


@pytest.mark.django_db(transaction=True)
class TestSendingToAProvider:
    async def test_an_answer_goes_to_the_chosen_provider_with_its_own_key(
        self, upstream, alice, settings, caplog
    ):
        caplog.set_level(logging.DEBUG)
        settings.LLM_API_KEY = "sk-wrong-default-key"  # the default provider would be refused
        await sync_to_async(_provider)(upstream.base_url, key=FAKE_API_KEY)
        ws = await connect(alice)
        await ws.send_json_to(
            {"type": "send", "content": "hi", "provider": "acme", "model": "chatsite-demo-large"}
        )
        done = (await receive_until(ws, "done"))[-1]
        await ws.disconnect()
        assert done["status"] == "complete"
        entry = upstream.log()[-1]
        assert entry["authorized"]
        assert entry["body"]["model"] == "chatsite-demo-large"
        usage = await Usage.objects.aget(message_id=done["message_id"])
        assert (usage.provider, usage.model) == ("acme", "chatsite-demo-large")
        conversation = await Conversation.objects.aget(user=alice)
        assert (conversation.provider, conversation.model) == ("acme", "chatsite-demo-large")
        assert FAKE_API_KEY not in caplog.text

    async def test_a_model_the_user_may_not_use_is_refused_before_anything_is_saved(
        self, upstream, alice
    ):
        await UserLimits.objects.acreate(user=alice, allowed_models=["chatsite-demo"])
        ws = await connect(alice)
        await ws.send_json_to({"type": "send", "content": "hi", "model": "chatsite-demo-large"})
        frame = await ws.receive_json_from(timeout=5)
        await ws.disconnect()
        assert (frame["type"], frame["code"]) == ("error", "model_not_allowed")
        assert not await Conversation.objects.filter(user=alice).aexists()
        assert not [e for e in upstream.log() if e["path"].endswith("/chat/completions")]

    async def test_a_disabled_provider_is_refused(self, upstream, alice):
        await sync_to_async(_provider)(upstream.base_url, enabled=False)
        ws = await connect(alice)
        await ws.send_json_to({"type": "send", "content": "hi", "provider": "acme", "model": "x"})
        frame = await ws.receive_json_from(timeout=5)
        await ws.disconnect()
        assert frame["code"] == "model_not_allowed"


@pytest.mark.django_db
class TestAllowedModelsOnEverySend:
    def test_a_new_conversation_on_the_default_model_needs_it_allowed(self, upstream, alice):
        from chat.services.answers.sending import message_send
        from chat.services.providers import ModelNotAllowed

        UserLimits.objects.create(user=alice, allowed_models=["chatsite-demo-large"])
        with pytest.raises(ModelNotAllowed):
            message_send(user=alice, conversation_id=None, content="hi")
        assert not Conversation.objects.filter(user=alice).exists()

    def test_a_model_withdrawn_from_a_user_is_refused_in_an_old_conversation(self, upstream, alice):
        from chat.services.answers.sending import message_send
        from chat.services.providers import ModelNotAllowed

        conversation = Conversation.objects.create(user=alice, model="chatsite-demo-large")
        UserLimits.objects.create(user=alice, allowed_models=["chatsite-demo"])
        with pytest.raises(ModelNotAllowed):
            message_send(user=alice, conversation_id=conversation.pk, content="hi")
        assert not conversation.messages.exists()


@pytest.mark.django_db
class TestModelsWithdrawnOrUnpriced:
    def test_a_model_the_admin_stops_offering_is_refused_in_old_conversations(
        self, upstream, alice
    ):
        from chat.services.answers.sending import message_send
        from chat.services.providers import ModelNotAllowed

        _provider(upstream.base_url, enabled_models=["acme-1"])
        conversation = Conversation.objects.create(user=alice, provider="acme", model="acme-2")
        with pytest.raises(ModelNotAllowed):
            message_send(user=alice, conversation_id=conversation.pk, content="hi")

    def test_with_a_cost_budget_an_unpriced_model_is_refused(self, upstream, alice):
        from decimal import Decimal

        from chat.models import ModelPrice
        from chat.services.answers.sending import message_send
        from chat.services.providers import ModelNotAllowed

        UserLimits.objects.create(user=alice, monthly_cost=Decimal(5))
        with pytest.raises(ModelNotAllowed, match="no price yet"):
            message_send(user=alice, conversation_id=None, content="hi")
        ModelPrice.objects.create(model="chatsite-demo", input_per_million=1)
        assert message_send(user=alice, conversation_id=None, content="hi").conversation_created

    def test_an_unreadable_key_hides_that_provider_only(self, upstream, alice_client):
        Provider.objects.create(
            slug="broken", name="Broken", base_url=upstream.base_url, api_key_encrypted="junk"
        )
        data = alice_client.get(reverse("chat:models")).json()
        assert [m["model"] for m in data["models"]] == ["chatsite-demo", "chatsite-demo-large"]


@pytest.mark.django_db
class TestTheProviderIsResolvedOncePerSend:
    """Resolving a provider reads its row and decrypts its key: the check of the model and
    the request upstream share one resolution, for a send and for a regenerate."""

    @pytest.fixture
    def decryptions(self, monkeypatch) -> list[str]:
        import chat.services.providers as providers

        seen: list[str] = []
        decrypt = providers.secret_decrypt

        def counted(token: str) -> str:
            seen.append(token)
            return decrypt(token)

        monkeypatch.setattr(providers, "secret_decrypt", counted)
        return seen

    def test_a_first_message_to_a_chosen_provider_decrypts_its_key_once(
        self, upstream, alice, decryptions
    ):
        from chat.services.answers.sending import message_send

        _provider(upstream.base_url)
        sent = message_send(
            user=alice, conversation_id=None, content="hi", provider="acme", model="acme-1"
        )
        assert sent.request.provider.api_key == FAKE_API_KEY
        assert len(decryptions) == 1

    def test_a_follow_up_decrypts_its_key_once(self, upstream, alice, decryptions):
        from chat.services.answers.sending import message_send

        _provider(upstream.base_url)
        conversation = Conversation.objects.create(user=alice, provider="acme", model="acme-1")
        sent = message_send(user=alice, conversation_id=conversation.pk, content="hi")
        assert sent.request.provider.slug == "acme"
        assert len(decryptions) == 1

    def test_a_regenerate_decrypts_its_key_once(self, upstream, alice, decryptions):
        from chat.models import Message
        from chat.services.answers.branches import message_regenerate

        _provider(upstream.base_url)
        conversation = Conversation.objects.create(user=alice, provider="acme", model="acme-1")
        question = conversation.messages.create(role=Message.Role.USER, content="hi")
        answer = conversation.messages.create(
            role=Message.Role.ASSISTANT, parent=question, content="hello", status="complete"
        )
        started = message_regenerate(user=alice, message_id=answer.pk)
        assert started.request.provider.api_key == FAKE_API_KEY
        assert len(decryptions) == 1
