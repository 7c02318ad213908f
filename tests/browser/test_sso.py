"""Single sign-on, through a real OpenID Connect provider (node's oidc-provider on
loopback) and the real browser: a first sign-in makes the account, a verified email links
an existing one and an unverified one never does, groups and staff follow the claims at
every sign-in, an expired or tampered ID token is refused, and an SSO-only site takes
passwords from its break-glass superuser only."""

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import PASSWORD, site_serving
from tests.servers import (
    FakeUpstreamServer,
    OidcProvider,
    free_port,
    site_query,
    site_storage,
)

pytestmark = pytest.mark.browser

CLIENT_SECRET = "tests-only-client-secret"
# By subject: the name typed at the test provider's login is the subject.
USERS: dict[str, dict[str, Any]] = {
    "ada": {
        "email": "ada@example.org",
        "email_verified": True,
        "groups": ["research"],
        "name": "Ada Lovelace",
    },
    # bob has a local account with this address: verified, so his sign-in links to it.
    "bob": {"email": "bob@example.org", "email_verified": True},
    # carol's address, but the provider does not say it is verified.
    "eve": {"email": "carol@example.org", "email_verified": False},
    # The break-glass superuser's address, verified: it still never links.
    "mallory": {"email": "a@example.org", "email_verified": True},
}
GOOD, EXPIRED, TAMPERED = "corp", "expired", "tampered"


@dataclass
class SsoSites:
    url: str  # passwords and single sign-on
    env: dict[str, str]
    sso_only_url: str
    sso_only_env: dict[str, str]
    provider: OidcProvider


def _client(provider_id: str, ports: list[int]) -> dict[str, Any]:
    return {
        "client_id": f"chatsite-{provider_id}",
        "client_secret": CLIENT_SECRET,
        "redirect_uris": [
            f"http://127.0.0.1:{port}/accounts/oidc/{provider_id}/login/callback/" for port in ports
        ],
    }


def _sso_env(providers: dict[str, OidcProvider]) -> dict[str, str]:
    env = {"SSO_PROVIDERS": ",".join(providers)}
    for provider_id, provider in providers.items():
        prefix = f"SSO_{provider_id.upper()}_"
        env[prefix + "ISSUER"] = provider.issuer
        env[prefix + "CLIENT_ID"] = f"chatsite-{provider_id}"
        env[prefix + "CLIENT_SECRET"] = CLIENT_SECRET
        env[prefix + "LABEL"] = provider_id.capitalize()
        env[prefix + "SCOPES"] = "openid email profile groups"
    return env


SEED = """
from django.contrib.auth.models import Group
from chat.models import ClaimRule, User
research, admins = Group.objects.create(name="Research"), Group.objects.create(name="Admins")
ClaimRule.objects.create(claim="groups", value="research", group=research)
ClaimRule.objects.create(claim="groups", value="admins", group=admins, makes_staff=True)
User.objects.create_user("bob", "bob@example.org", "bob-local-password-1")
User.objects.create_user("carol", "carol@example.org", "carol-local-password-1")
result = 1
"""


@contextlib.contextmanager
def _site(
    fake: FakeUpstreamServer, workdir: Path, port: int, **extra: str
) -> Iterator[dict[str, str]]:
    """A site with the admin alice, the local accounts bob and carol, and the claim rules."""
    workdir.mkdir()
    with site_serving(fake, site_storage(workdir), port=port, **extra) as site:
        site_query(site.env, SEED)
        yield site.env


@pytest.fixture(scope="module")
def sso(
    fake_upstream_server: FakeUpstreamServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SsoSites]:
    workdir = Path(tmp_path_factory.mktemp("sso"))
    ports = [free_port(), free_port()]
    clients = [_client(p, ports) for p in (GOOD, EXPIRED, TAMPERED)]
    providers = {
        GOOD: OidcProvider(clients=clients, users=USERS, directory=workdir),
        EXPIRED: OidcProvider(clients=clients, users=USERS, directory=workdir, id_token_ttl=-120),
        TAMPERED: OidcProvider(clients=clients, users=USERS, directory=workdir, tamper="signature"),
    }
    try:
        env_sso = _sso_env(providers)
        with (
            _site(fake_upstream_server, workdir / "both", ports[0], **env_sso) as env,
            _site(
                fake_upstream_server,
                workdir / "only",
                ports[1],
                **_sso_env({GOOD: providers[GOOD]}),
                SSO_ONLY="1",
            ) as only_env,
        ):
            yield SsoSites(
                url=f"http://127.0.0.1:{ports[0]}",
                env=env,
                sso_only_url=f"http://127.0.0.1:{ports[1]}",
                sso_only_env=only_env,
                provider=providers[GOOD],
            )
    finally:
        for provider in providers.values():
            provider.stop()


@pytest.fixture
def fresh_page(browser: Browser) -> Iterator[Page]:
    """A browser with no session at the site or at the provider."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def sign_in_with(page: Page, site_url: str, provider: str, login: str) -> None:
    """From the site's login page through the provider's own login and consent pages."""
    page.goto(f"{site_url}/accounts/login/")
    page.get_by_role("button", name=f"Sign in with {provider}").click()
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "anything: the test provider takes any")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()


def user_row(env: dict[str, str], username_or_email: str) -> Any:
    code = f"""
from django.db.models import Q
from chat.models import User
key = {username_or_email!r}
user = User.objects.filter(Q(username=key) | Q(email=key)).first()
result = user and {{
    "pk": user.pk,
    "username": user.username,
    "email": user.email,
    "staff": user.is_staff,
    "usable_password": user.has_usable_password(),
    "groups": sorted(user.groups.values_list("name", flat=True)),
    "identities": sorted(user.socialaccount_set.values_list("provider", "uid")),
}}
"""
    return site_query(env, code)


def users_count(env: dict[str, str]) -> int:
    return int(site_query(env, "from chat.models import User\nresult = User.objects.count()"))


def test_a_first_sign_in_makes_the_account_with_its_groups_and_opens_the_chat(
    sso: SsoSites, fresh_page: Page
):
    sign_in_with(fresh_page, sso.url, "Corp", "ada")

    fresh_page.wait_for_url(f"{sso.url}/")
    expect(fresh_page.locator("#composer-input")).to_be_visible()
    ada = user_row(sso.env, "ada@example.org")
    assert ada["identities"] == [[GOOD, "ada"]], "the provider's subject is the identity"
    assert ada["groups"] == ["Research"]
    assert ada["staff"] is False
    assert ada["usable_password"] is False, "an account made by a provider has no password"
    # Signing in again is the same account, however the email or name change.
    before = users_count(sso.env)
    sso.provider.users_set({**USERS, "ada": {**USERS["ada"], "email": "ada@new.example.org"}})
    try:
        second = fresh_page.context.browser.new_context()  # type: ignore[union-attr]
        again = second.new_page()
        sign_in_with(again, sso.url, "Corp", "ada")
        again.wait_for_url(f"{sso.url}/")
        second.close()
    finally:
        sso.provider.users_set(USERS)
    assert users_count(sso.env) == before
    assert user_row(sso.env, ada["username"])["pk"] == ada["pk"]


def test_groups_and_staff_follow_the_claims_at_every_sign_in(sso: SsoSites, browser: Browser):
    def sign_in_as(claims: dict[str, Any]) -> Any:
        sso.provider.users_set({**USERS, "grace": claims})
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(15_000)
        sign_in_with(page, sso.url, "Corp", "grace")
        page.wait_for_url(f"{sso.url}/")
        context.close()
        return user_row(sso.env, "grace@example.org")

    grace = {"email": "grace@example.org", "email_verified": True}
    try:
        first = sign_in_as({**grace, "groups": ["research", "admins", "unmapped"]})
        assert first["groups"] == ["Admins", "Research"]
        assert first["staff"] is True, "the admins claim makes staff"

        # A group made by hand in the admin is not the claims' to take away.
        site_query(
            sso.env,
            "from django.contrib.auth.models import Group\nfrom chat.models import User\n"
            "g = Group.objects.create(name='Hand-made')\n"
            "User.objects.get(email='grace@example.org').groups.add(g)\nresult = 1",
        )
        later = sign_in_as({**grace, "groups": ["research"]})
        assert later["groups"] == ["Hand-made", "Research"]
        assert later["staff"] is False, "staff given by a claim goes with the claim"
        assert later["pk"] == first["pk"]
    finally:
        sso.provider.users_set(USERS)


def test_a_verified_email_links_the_existing_account_and_ends_its_password(
    sso: SsoSites, fresh_page: Page
):
    bob = user_row(sso.env, "bob")
    assert bob["usable_password"] is True
    before = users_count(sso.env)

    sign_in_with(fresh_page, sso.url, "Corp", "bob")

    fresh_page.wait_for_url(f"{sso.url}/")
    linked = user_row(sso.env, "bob")
    assert linked["pk"] == bob["pk"]
    assert linked["identities"] == [[GOOD, "bob"]]
    # The local password could have been set by whoever first typed this address.
    assert linked["usable_password"] is False
    assert users_count(sso.env) == before


@pytest.mark.parametrize(
    ("login", "owner"),
    [("eve", "carol"), ("mallory", "alice")],
    ids=["an unverified email", "the superuser's verified email"],
)
def test_a_sign_in_that_may_not_link_is_refused_and_makes_no_account(
    sso: SsoSites, fresh_page: Page, login: str, owner: str
):
    before = users_count(sso.env)

    sign_in_with(fresh_page, sso.url, "Corp", login)

    expect(fresh_page.get_by_role("heading", name="Sign-in refused")).to_be_visible()
    assert users_count(sso.env) == before
    kept = user_row(sso.env, owner)
    assert kept["identities"] == []
    assert kept["usable_password"] is True
    fresh_page.goto(f"{sso.url}/")
    expect(fresh_page).to_have_url(f"{sso.url}/accounts/login/?next=/")


@pytest.mark.parametrize("provider", [EXPIRED, TAMPERED])
def test_an_expired_or_tampered_id_token_is_refused(sso: SsoSites, fresh_page: Page, provider: str):
    before = users_count(sso.env)

    sign_in_with(fresh_page, sso.url, provider.capitalize(), "ada")

    expect(fresh_page.get_by_role("heading", name="Sign-in failed")).to_be_visible()
    assert users_count(sso.env) == before
    fresh_page.goto(f"{sso.url}/")
    expect(fresh_page).to_have_url(f"{sso.url}/accounts/login/?next=/")


def test_an_sso_only_site_takes_a_password_from_the_break_glass_superuser_only(
    sso: SsoSites, fresh_page: Page
):
    page, url = fresh_page, sso.sso_only_url
    page.goto(f"{url}/accounts/login/")
    expect(page.get_by_role("button", name="Sign in with Corp")).to_be_visible()
    expect(page.locator("#id_username")).to_be_hidden()  # folded away
    expect(page.get_by_role("link", name="Sign up")).to_have_count(0)
    assert page.request.get(f"{url}/accounts/signup/").status == 404
    assert page.request.get(f"{url}/accounts/password/reset/").status == 404

    page.get_by_text("Administrator sign-in with a password").click()
    page.fill("#id_username", "bob")
    page.fill("#id_password", "bob-local-password-1")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".auth-form")).to_contain_text("Please enter a correct username")

    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{url}/")


def test_an_sso_only_site_signs_people_in_with_their_provider(sso: SsoSites, fresh_page: Page):
    sign_in_with(fresh_page, sso.sso_only_url, "Corp", "ada")

    fresh_page.wait_for_url(f"{sso.sso_only_url}/")
    expect(fresh_page.locator("#composer-input")).to_be_visible()
    ada = user_row(sso.sso_only_env, "ada@example.org")
    assert ada["identities"] == [[GOOD, "ada"]]


def test_a_provider_that_stops_and_comes_back_loses_no_account(sso: SsoSites, browser: Browser):
    """The identity provider goes down: a sign-in says so and changes nothing; once it is
    back (a new process, its sessions gone), the same people sign in to the same
    accounts."""
    ada = user_row(sso.env, "ada@example.org") or {}
    before = users_count(sso.env)
    sso.provider.stop()
    try:
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{sso.url}/accounts/login/")
        page.get_by_role("button", name="Sign in with Corp").click()
        expect(page.get_by_role("heading", name="Sign-in failed")).to_be_visible()
        context.close()
        assert users_count(sso.env) == before
    finally:
        sso.provider.start()
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in_with(page, sso.url, "Corp", "ada")
    page.wait_for_url(f"{sso.url}/")
    context.close()
    again = user_row(sso.env, "ada@example.org")
    assert again["identities"] == [[GOOD, "ada"]]
    if ada:
        assert again["pk"] == ada["pk"], "the same subject is the same account"
    assert users_count(sso.env) == before + (0 if ada else 1)
