import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from chat.crypto import secret_decrypt
from chat.models import (
    ApiKey,
    ClaimRule,
    Conversation,
    IdentityProvider,
    Invite,
    McpServer,
    McpTool,
    Message,
    ModelDocuments,
    ModelPrice,
    Preset,
    Provider,
    SiteSettings,
    ToolRun,
    Usage,
    User,
    UserLimits,
)
from chat.services.providers import provider_key_set
from tests.conftest import usage_spent

pytestmark = pytest.mark.django_db


def _provider_with_key(key: str) -> Provider:
    provider = Provider(slug="acme", name="Acme", base_url="https://a.invalid/v1")
    provider_key_set(provider, key)
    provider.save()
    return provider


MODELS = ["user", "conversation", "message", "usage", "provider", "modelprice", "invite"]


@pytest.mark.parametrize("model", MODELS)
def test_every_changelist_loads_and_searches(admin_client, ledger, model):
    url = reverse(f"admin:chat_{model}_changelist")
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url, {"q": "alice"}).status_code == 200


@pytest.mark.parametrize("model", ["user", "provider", "modelprice", "invite"])
def test_every_add_form_loads(admin_client, model):
    assert admin_client.get(reverse(f"admin:chat_{model}_add")).status_code == 200


def test_the_user_list_shows_each_users_usage_this_month(admin_client, ledger, alice):
    response = admin_client.get(reverse("admin:chat_user_changelist"))
    users = {user.username: user for user in response.context["cl"].result_list}
    assert (users["alice"].prompt_month, users["alice"].completion_month) == (150, 25)
    assert users["alice"].requests_month == 2
    assert users["alice"].cost_month == Decimal("0.0005")  # (150 * 2 + 25 * 8) / 1e6
    assert (users["bob"].prompt_month, users["bob"].requests_month) == (7, 1)
    assert (users["admin"].prompt_month, users["admin"].requests_month) == (0, 0)


def test_the_usage_list_filters_by_status_model_and_period(admin_client, ledger):
    url = reverse("admin:chat_usage_changelist")
    stopped = admin_client.get(url, {"status__exact": "stopped"}).context["cl"].result_list
    assert [row.user.username for row in stopped] == ["bob"]
    m2 = admin_client.get(url, {"model": "m2"}).context["cl"].result_list
    assert [(row.user.username, row.prompt_tokens) for row in m2] == [("alice", 50)]
    assert len(admin_client.get(url, {"period": "today"}).context["cl"].result_list) == 3


def test_the_usage_list_searches_by_exact_user_name(admin_client, ledger):
    rows = admin_client.get(reverse("admin:chat_usage_changelist"), {"q": "bob"})
    assert [row.user.username for row in rows.context["cl"].result_list] == ["bob"]


def test_the_usage_ledger_cannot_be_edited_by_hand(admin_client, ledger):
    usage = Usage.objects.first()
    assert admin_client.get(reverse("admin:chat_usage_add")).status_code == 403
    response = admin_client.post(
        reverse("admin:chat_usage_change", args=[usage.pk]), {"prompt_tokens": 0}
    )
    assert response.status_code == 403
    usage.refresh_from_db()
    assert usage.prompt_tokens != 0


def test_an_admin_can_add_a_user(admin_client):
    response = admin_client.post(
        reverse("admin:chat_user_add"),
        {
            "username": "dave",
            "password1": "a-long-password-9",
            "password2": "a-long-password-9",
            "usable_password": "true",
            "limits-TOTAL_FORMS": "0",
            "limits-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    assert User.objects.filter(username="dave").exists()


def _user_form(user, **limits):
    data = {
        "username": user.username,
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "limits-TOTAL_FORMS": "1",
        "limits-INITIAL_FORMS": "0",
        "limits-MIN_NUM_FORMS": "0",
        "limits-MAX_NUM_FORMS": "1",
        "limits-0-user": str(user.pk),
    }
    data.update({f"limits-0-{name}": value for name, value in limits.items()})
    return data


def test_an_admin_sets_a_users_limits_and_allowed_models(admin_client, alice):
    response = admin_client.post(
        reverse("admin:chat_user_change", args=[alice.pk]),
        _user_form(alice, monthly_tokens="5000", allowed_models="gpt-a\ngpt-b\n"),
    )
    assert response.status_code == 302, response.context and response.context["errors"]
    limits = UserLimits.objects.get(user=alice)
    assert limits.monthly_tokens == 5000
    assert limits.allowed_models == ["gpt-a", "gpt-b"]


def test_admins_deactivate_and_activate_users(admin_client, alice, bob):
    url = reverse("admin:chat_user_changelist")
    chosen = {"_selected_action": [alice.pk, bob.pk]}
    admin_client.post(url, {"action": "deactivate", **chosen})
    assert not User.objects.filter(pk__in=[alice.pk, bob.pk], is_active=True).exists()
    admin_client.post(url, {"action": "activate", **chosen})
    assert User.objects.filter(pk__in=[alice.pk, bob.pk], is_active=True).count() == 2


def test_a_provider_key_is_stored_encrypted_and_never_shown(admin_client):
    key = "sk-admin-entered-secret-4321"
    response = admin_client.post(
        reverse("admin:chat_provider_add"),
        {
            "name": "Acme AI",
            "slug": "acme",
            "base_url": "https://api.acme.invalid/v1",
            "api_key": key,
            "enabled": "on",
            "enabled_models": "acme-large\nacme-small",
        },
    )
    assert response.status_code == 302
    provider = Provider.objects.get(slug="acme")
    assert key not in provider.api_key_encrypted
    assert secret_decrypt(provider.api_key_encrypted) == key
    assert provider.enabled_models == ["acme-large", "acme-small"]
    for url in [
        reverse("admin:chat_provider_changelist"),
        reverse("admin:chat_provider_change", args=[provider.pk]),
    ]:
        page = admin_client.get(url).content.decode()
        assert key not in page
        assert "…4321" in page


def test_an_identity_provider_s_secret_is_stored_encrypted_and_never_shown(admin_client):
    secret = "idp-admin-entered-secret-8765"
    fields = {
        "name": "Corp",
        "slug": "corp",
        "issuer": "https://idp.example.org",
        "client_id": "chatsite",
        "scopes": "openid email profile groups",
        "enabled": "on",
    }
    response = admin_client.post(
        reverse("admin:chat_identityprovider_add"), {**fields, "client_secret": secret}
    )
    assert response.status_code == 302
    row = IdentityProvider.objects.get(slug="corp")
    assert secret not in row.client_secret_encrypted
    assert secret_decrypt(row.client_secret_encrypted) == secret
    change = reverse("admin:chat_identityprovider_change", args=[row.pk])
    for url in [reverse("admin:chat_identityprovider_changelist"), change]:
        page = admin_client.get(url).content.decode()
        assert secret not in page
        assert "…8765" in page
    # Saved again without a secret: the stored one stays.
    assert admin_client.post(change, {**fields, "name": "Corp SSO"}).status_code == 302
    row.refresh_from_db()
    assert secret_decrypt(row.client_secret_encrypted) == secret


def test_the_user_s_page_shows_their_single_sign_on_identities(admin_client, alice):
    from allauth.socialaccount.models import SocialAccount

    SocialAccount.objects.create(user=alice, provider="corp", uid="alice-at-corp")
    page = admin_client.get(reverse("admin:chat_user_change", args=[alice.pk]))
    assert page.status_code == 200
    assert "alice-at-corp" in page.content.decode()


def test_saving_a_provider_without_a_new_key_keeps_the_old_one(admin_client):
    provider = _provider_with_key("sk-kept-key-123456")
    admin_client.post(
        reverse("admin:chat_provider_change", args=[provider.pk]),
        {"name": "Acme 2", "slug": "acme", "base_url": "https://a.invalid/v1", "enabled": "on"},
    )
    provider.refresh_from_db()
    assert provider.name == "Acme 2"
    assert secret_decrypt(provider.api_key_encrypted) == "sk-kept-key-123456"


def test_an_admin_adds_a_price(admin_client):
    response = admin_client.post(
        reverse("admin:chat_modelprice_add"),
        {
            "provider": "",
            "model": "gpt-x",
            "input_per_million": "2.5",
            "cached_input_per_million": "1.25",
            "output_per_million": "10",
        },
    )
    assert response.status_code == 302
    assert ModelPrice.objects.get(model="gpt-x").output_per_million == Decimal(10)


def test_an_admin_creates_an_invite_and_sees_its_link(admin_client):
    response = admin_client.post(reverse("admin:chat_invite_add"), {"note": "for erin"})
    assert response.status_code == 302
    invite = Invite.objects.get(note="for erin")
    page = admin_client.get(reverse("admin:chat_invite_change", args=[invite.pk]))
    assert f"?invite={invite.code}" in page.content.decode()


def test_site_settings_are_one_row_edited_in_place(admin_client):
    response = admin_client.get(reverse("admin:chat_sitesettings_changelist"))
    assert response.status_code == 302
    response = admin_client.post(
        response.url, {"signup_mode": "invite", "monthly_tokens": "100000"}
    )
    assert response.status_code == 302
    settings_row = SiteSettings.objects.get()
    assert (settings_row.signup_mode, settings_row.monthly_tokens) == ("invite", 100000)


def test_embeddings_are_turned_on_with_a_model_and_an_enabled_providers_slug(admin_client):
    page = admin_client.get(reverse("admin:chat_sitesettings_changelist")).url
    Provider.objects.create(
        slug="embedder", name="Embedder", base_url="https://e.example/v1", enabled=True
    )
    form = {"signup_mode": "closed", "embeddings_model": "text-embedding-3-small"}

    unknown = admin_client.post(page, {**form, "embeddings_provider": "nobody"})
    known = admin_client.post(page, {**form, "embeddings_provider": "embedder"})

    assert unknown.status_code == 200
    assert "No enabled provider has this slug." in unknown.content.decode()
    assert known.status_code == 302
    row = SiteSettings.objects.get()
    assert (row.embeddings_model, row.embeddings_provider) == ("text-embedding-3-small", "embedder")


# --- the dashboard --------------------------------------------------------------------


def test_the_dashboard_totals_per_user_and_per_model(admin_client, ledger):
    response = admin_client.get(reverse("admin:chat_usage_dashboard"), {"period": "7d"})
    assert response.status_code == 200
    totals = response.context["totals"]
    assert (totals["requests"], totals["prompt_tokens"], totals["completion_tokens"]) == (
        3,
        157,
        26,
    )
    by_user = {row["user__username"]: row for row in response.context["by_user"]}
    assert by_user["alice"]["total_tokens"] == 175
    assert by_user["bob"]["requests"] == 1
    by_model = {row["model"]: row for row in response.context["by_model"]}
    assert by_model["m"]["requests"] == 2
    assert by_model["m2"]["prompt_tokens"] == 50
    assert len(response.context["days"]) == 7


def test_the_dashboard_filters_by_user_and_model(admin_client, ledger):
    url = reverse("admin:chat_usage_dashboard")
    only_bob = admin_client.get(url, {"period": "30d", "user": "bob"}).context["totals"]
    assert only_bob["prompt_tokens"] == 7
    only_m2 = admin_client.get(url, {"period": "30d", "model": "m2"}).context["totals"]
    assert only_m2["prompt_tokens"] == 50


def test_the_dashboard_refuses_a_backwards_range(admin_client, ledger):
    response = admin_client.get(
        reverse("admin:chat_usage_dashboard"),
        {"period": "range", "start": "2026-05-02", "end": "2026-05-01"},
    )
    assert "ends before it starts" in response.content.decode()


def test_the_dashboard_drills_down_to_one_users_requests(admin_client, ledger, bob):
    dashboard = admin_client.get(reverse("admin:chat_usage_dashboard"))
    link = next(r["drilldown"] for r in dashboard.context["by_user"] if r["user_id"] == bob.pk)
    rows = admin_client.get(link).context["cl"].result_list
    assert [row.user_id for row in rows] == [bob.pk]


def test_the_dashboard_exports_csv(admin_client, ledger):
    response = admin_client.get(
        reverse("admin:chat_usage_dashboard"), {"period": "30d", "format": "csv"}
    )
    assert response["Content-Disposition"].startswith("attachment;")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sum(int(r["prompt_tokens"]) for r in rows) == 157
    assert {r["user"] for r in rows} == {"alice", "bob"}


def test_the_dashboard_totals_and_filters_per_group(admin_client, ledger, alice, bob):
    research = Group.objects.create(name="Research")
    research.user_set.add(alice)
    everyone = Group.objects.create(name="Everyone")
    everyone.user_set.add(alice, bob)
    url = reverse("admin:chat_usage_dashboard")

    page = admin_client.get(url, {"period": "30d"})
    by_group = {row["name"]: row for row in page.context["by_group"]}
    assert by_group["Research"]["total_tokens"] == 175
    assert by_group["Everyone"]["total_tokens"] == 183
    assert f'?period=30d&amp;group={research.pk}"' in page.content.decode()

    only_research = admin_client.get(url, {"period": "30d", "group": research.pk})
    assert only_research.context["totals"]["prompt_tokens"] == 150
    assert [r["user__username"] for r in only_research.context["by_user"]] == ["alice"]
    # Narrowed to Research, the table does not show part of Everyone as if it were all.
    assert [r["name"] for r in only_research.context["by_group"]] == ["Research"]


def test_the_csv_carries_each_user_s_groups(admin_client, ledger, alice):
    Group.objects.create(name="Research").user_set.add(alice)
    Group.objects.create(name="Admins").user_set.add(alice)
    response = admin_client.get(
        reverse("admin:chat_usage_dashboard"), {"period": "30d", "format": "csv"}
    )
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {r["user"]: r["groups"] for r in rows} == {"alice": "Admins; Research", "bob": ""}


def test_only_staff_see_the_dashboard(client, alice):
    client.force_login(alice)
    response = client.get(reverse("admin:chat_usage_dashboard"))
    assert response.status_code == 302
    assert "/admin/login/" in response.url


def test_the_dashboard_needs_permission_to_read_the_ledger(client, bob):
    bob.is_staff = True
    bob.save()
    client.force_login(bob)
    assert client.get(reverse("admin:chat_usage_dashboard")).status_code == 403


def test_a_provider_moved_to_another_address_loses_its_stored_key(admin_client):
    provider = _provider_with_key("sk-kept-key-123456")
    admin_client.post(
        reverse("admin:chat_provider_change", args=[provider.pk]),
        {"name": "Acme", "slug": "acme", "base_url": "https://evil.invalid/v1", "enabled": "on"},
    )
    provider.refresh_from_db()
    assert provider.base_url == "https://evil.invalid/v1"
    assert provider.api_key_encrypted == ""


def test_site_settings_opened_first_in_the_admin_keep_the_environments_mode(admin_client, settings):
    settings.SIGNUP_MODE = "open"
    admin_client.get(reverse("admin:chat_sitesettings_changelist"))
    assert SiteSettings.objects.get().signup_mode == "open"


def test_a_used_invite_stays_used_when_its_account_is_deleted(client, alice):
    from django.utils import timezone

    SiteSettings(signup_mode="invite").save()
    invite = Invite.objects.create(used_by=alice, used_at=timezone.now())
    alice.delete()
    response = client.post(
        reverse("signup"),
        {"username": "z", "password1": "a-long-password-9", "password2": "a-long-password-9",
         "invite": invite.code},
    )  # fmt: skip
    assert response.status_code == 403


def test_users_with_usage_are_deactivated_not_deleted(ledger, alice):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        alice.delete()


def test_the_csv_keeps_formulas_as_text(admin_client, bob):
    usage_spent(bob, prompt=1, completion=1, model="=HYPERLINK(1)")
    response = admin_client.get(
        reverse("admin:chat_usage_dashboard"), {"period": "today", "format": "csv"}
    )
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["model"] for r in rows] == ["'=HYPERLINK(1)"]


@pytest.fixture
def one_of_each(alice) -> dict[type, int]:
    """One row of every model chat/admin/ registers: model -> its id."""
    conversation = Conversation.objects.create(user=alice)
    return {
        User: alice.pk,
        Invite: Invite.objects.create().pk,
        SiteSettings: SiteSettings.objects.create().pk,
        Provider: _provider_with_key("sk-history-123456").pk,
        ModelPrice: ModelPrice.objects.create(model="gpt-x").pk,
        ModelDocuments: ModelDocuments.objects.create(model="gpt-x").pk,
        Conversation: conversation.pk,
        Message: Message.objects.create(conversation=conversation, role="user").pk,
        Usage: usage_spent(alice, prompt=1, completion=1).pk,
        Group: Group.objects.create(name="Research").pk,
        IdentityProvider: IdentityProvider.objects.create(
            slug="corp", name="Corp", issuer="https://idp.example.org", client_id="c"
        ).pk,
        ClaimRule: ClaimRule.objects.create(value="research", makes_staff=True).pk,
        McpServer: (server := McpServer.objects.create(slug="t", name="T", stdio="time")).pk,
        McpTool: (tool := McpTool.objects.create(server=server, name="get_current_time")).pk,
        ToolRun: ToolRun.objects.create(
            message=Message.objects.create(conversation=conversation, role="assistant"),
            user=alice,
            tool=tool,
            run_id="1-0",
            name="t__get_current_time",
            outcome="done",
        ).pk,
        ApiKey: ApiKey.objects.create(user=alice, name="k", key_hash="0" * 64, last_four="abcd").pk,
        Preset: Preset.objects.create(name="Published", everyone=True).pk,
    }


HISTORY_MODELS = [
    User,
    Invite,
    SiteSettings,
    Provider,
    ModelPrice,
    ModelDocuments,
    Conversation,
    Message,
    Usage,
    Group,
    IdentityProvider,
    ClaimRule,
    ApiKey,
    McpServer,
    McpTool,
    ToolRun,
    Preset,
]


def test_the_history_tests_cover_every_model_registered_in_chat_admin():
    from django.contrib import admin

    registered = {
        m
        for m, a in admin.site._registry.items()
        if type(a).__module__
        in {
            "chat.admin.registrations",
            "chat.admin.sso",
            "chat.admin.api",
            "chat.admin.tools",
        }
    }
    assert registered == set(HISTORY_MODELS)


@pytest.mark.parametrize("model", HISTORY_MODELS, ids=lambda m: m._meta.model_name)
def test_a_staff_user_without_permissions_cannot_tell_which_ids_exist(
    client, bob, one_of_each, model
):
    bob.is_staff = True
    bob.save()
    client.force_login(bob)
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}_history"
    existing = client.get(reverse(name, args=[one_of_each[model]]))
    missing = client.get(reverse(name, args=[one_of_each[model] + 1000]))
    assert existing.status_code == missing.status_code == 403


@pytest.mark.parametrize("model", HISTORY_MODELS, ids=lambda m: m._meta.model_name)
def test_an_admin_still_reads_every_history(admin_client, one_of_each, model):
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}_history"
    assert admin_client.get(reverse(name, args=[one_of_each[model]])).status_code == 200


def test_staff_who_may_not_see_groups_get_no_group_figures(client, ledger, alice, bob):
    from django.contrib.auth.models import Permission

    research = Group.objects.create(name="Research")
    research.user_set.add(alice)
    bob.is_staff = True
    bob.save()
    bob.user_permissions.add(Permission.objects.get(codename="view_usage"))
    client.force_login(bob)
    url = reverse("admin:chat_usage_dashboard")

    page = client.get(url, {"period": "30d", "group": research.pk})
    assert page.status_code == 200
    assert page.context["by_group"] is None
    assert "Research" not in page.content.decode()
    assert page.context["totals"]["prompt_tokens"] == 157, "the group filter is not applied"
    export = client.get(url, {"period": "30d", "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert {r["groups"] for r in rows} == {""}
