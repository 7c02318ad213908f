"""Personal API keys: the secret is shown once and only its hash kept; a key is accepted
in the Authorization header only, and refused once revoked, expired, or its owner
deactivated; the owner's page makes and revokes keys, the admin revokes any."""

import datetime
import hashlib

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chat.models import ApiKey, User
from chat.services.api.keys import (
    ApiKeyInvalid,
    ApiKeyRefused,
    api_key_authenticate,
    api_key_create,
    api_key_revoke,
)

pytestmark = pytest.mark.django_db


def test_a_new_key_s_secret_is_kept_only_as_a_hash_and_its_last_four(alice: User):
    new = api_key_create(user=alice, name="laptop", allowed_models=[" gpt-x ", "", "gpt-x"])

    row = ApiKey.objects.get()
    assert new.secret.startswith("csk-")
    assert len(new.secret) > 40
    assert row.key_hash == hashlib.sha256(new.secret.encode()).hexdigest()
    assert new.secret not in str(ApiKey.objects.values().get())
    assert row.last_four == new.secret[-4:]
    assert row.allowed_models == ["gpt-x"]


def test_a_key_is_accepted_as_a_bearer_token_only(alice: User):
    secret = api_key_create(user=alice, name="k").secret

    assert api_key_authenticate(f"Bearer {secret}").user == alice
    for header in [secret, f"Basic {secret}", "Bearer", "", None, f"Bearer {secret}x"]:
        with pytest.raises(ApiKeyInvalid):
            api_key_authenticate(header)


def test_a_revoked_or_expired_key_or_one_of_a_deactivated_user_is_refused(alice: User, bob):
    revoked = api_key_create(user=alice, name="r")
    api_key_revoke(user=alice, key_id=revoked.key.pk)
    expired = api_key_create(
        user=alice, name="e", expires_at=timezone.now() + datetime.timedelta(seconds=30)
    )
    ApiKey.objects.filter(pk=expired.key.pk).update(expires_at=timezone.now())
    of_inactive = api_key_create(user=bob, name="b")
    User.objects.filter(pk=bob.pk).update(is_active=False)

    for secret in [revoked.secret, expired.secret, of_inactive.secret]:
        with pytest.raises(ApiKeyInvalid):
            api_key_authenticate(f"Bearer {secret}")


def test_another_user_s_key_cannot_be_revoked_by_its_id(alice: User, bob: User):
    key = api_key_create(user=alice, name="k").key
    with pytest.raises(ApiKey.DoesNotExist):
        api_key_revoke(user=bob, key_id=key.pk)
    key.refresh_from_db()
    assert key.revoked_at is None


def test_a_key_needs_a_name_and_a_future_expiry(alice: User):
    with pytest.raises(ApiKeyRefused, match="name"):
        api_key_create(user=alice, name="  ")
    with pytest.raises(ApiKeyRefused, match="future"):
        api_key_create(user=alice, name="k", expires_at=timezone.now())


def test_the_page_shows_a_new_secret_once_and_revokes(alice: User):
    client = Client()
    client.force_login(alice)
    made = client.post(reverse("chat:api_keys"), {"name": "notebook", "expires_in": "30"})

    assert made.status_code == 200
    assert made["Cache-Control"] == "no-store"
    secret = made.context["new_secret"]
    assert secret in made.content.decode()
    again = client.get(reverse("chat:api_keys")).content.decode()
    assert secret not in again
    assert f"csk-…{secret[-4:]}" in again
    key = ApiKey.objects.get()
    assert key.expires_at is not None

    client.post(reverse("chat:api_key_revoke", args=[key.pk]))
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_another_user_s_key_on_the_page_is_a_404(alice: User, bob: User):
    key = api_key_create(user=alice, name="k").key
    client = Client()
    client.force_login(bob)
    assert client.post(reverse("chat:api_key_revoke", args=[key.pk])).status_code == 404
    assert client.post(reverse("chat:api_key_revoke", args=[key.pk + 99])).status_code == 404


def test_the_admin_lists_keys_without_their_secret_and_revokes_them(admin_client, alice: User):
    new = api_key_create(user=alice, name="ci")
    page = admin_client.get(reverse("admin:chat_apikey_changelist")).content.decode()
    assert new.secret not in page
    assert f"csk-…{new.secret[-4:]}" in page

    admin_client.post(
        reverse("admin:chat_apikey_changelist"),
        {"action": "revoke", "_selected_action": [new.key.pk]},
    )
    with pytest.raises(ApiKeyInvalid):
        api_key_authenticate(f"Bearer {new.secret}")


def test_the_dashboard_totals_api_requests_per_key(admin_client, alice: User):
    from chat.services.usage.ledger import UsageCounts, usage_record

    key = api_key_create(user=alice, name="ci").key
    for _ in range(2):
        usage_record(
            user_id=alice.pk,
            conversation_id=None,
            message_id=None,
            purpose="api",
            api_key_id=key.pk,
            provider="default",
            model="chatsite-demo",
            status="complete",
            counts=UsageCounts(prompt_tokens=10, completion_tokens=5),
        )

    page = admin_client.get(reverse("admin:chat_usage_dashboard"), {"period": "today"})

    (row,) = page.context["by_key"]
    assert row["api_key__name"] == "ci"
    assert row["requests"] == 2
    assert row["total_tokens"] == 30
    assert f"csk-…{key.last_four}" in page.content.decode()


def test_a_key_never_reaches_the_logs(alice: User, caplog, settings):
    import logging

    secret = api_key_create(user=alice, name="k").secret
    caplog.set_level(logging.DEBUG)
    client = Client()
    client.get("/v1/models", HTTP_AUTHORIZATION=f"Bearer {secret}")
    client.get("/v1/models", HTTP_AUTHORIZATION=f"Bearer {secret}x")  # refused, too
    client.post(
        "/v1/chat/completions",
        "{",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )

    assert caplog.records, "the requests were logged"
    assert secret not in caplog.text
