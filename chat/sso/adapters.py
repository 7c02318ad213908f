"""chatsite's answers to allauth's questions during a sign-in: which providers exist,
which local account a verified email may sign in to, and what to show when a sign-in
cannot go on."""

import logging
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialLogin
from django.contrib.auth.models import AbstractBaseUser, AbstractUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from chat.crypto import SecretUnreadable
from chat.models import IdentityProvider, User
from chat.sso.providers import OIDC, social_app_of

logger = logging.getLogger(__name__)


def _users_with_email(email: str) -> list[User]:
    return list(User.objects.filter(email__iexact=email))


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(
        self, request: HttpRequest | None, provider: str | None = None, client_id: str | None = None
    ) -> list[SocialApp]:
        """The providers from the environment (settings), then those made in the admin."""
        apps: list[SocialApp] = list(super().list_apps(request, provider, client_id))
        rows = IdentityProvider.objects.filter(enabled=True)
        if provider and provider != OIDC:
            rows = rows.filter(slug=provider)
        if client_id:
            rows = rows.filter(client_id=client_id)
        known = {app.provider_id for app in apps}
        for row in rows:
            if row.slug in known:
                continue
            try:
                apps.append(social_app_of(row))
            except SecretUnreadable:
                # Encrypted with a key the site no longer has: that provider is left out
                # until its secret is entered again; the others (and passwords) still work.
                logger.error("SSO provider %s: its client secret cannot be decrypted", row.slug)
        return apps

    def authenticate_by_email(self, sociallogin: SocialLogin) -> tuple[AbstractUser, str] | None:
        """The local account a first sign-in continues: only by an email the provider says
        is verified, matching exactly one account, never a superuser's (the break-glass
        account stays local), and never one this provider already links to another
        subject (an address the provider gave to someone new)."""
        provider_id = sociallogin.account.provider
        for address in sociallogin.email_addresses:
            if not address.verified:
                continue
            users = _users_with_email(address.email)
            if len(users) != 1:
                continue
            user = users[0]
            linked = SocialAccount.objects.filter(user=user, provider=provider_id).exists()
            if user.is_superuser or linked:
                continue
            return user, address.email
        return None

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        """A first sign-in whose email belongs to an account it may not link to is
        refused: a second account with the same address would be a trap, and linking
        would hand the account to whoever controls the provider's unverified claim."""
        if sociallogin.is_existing:
            return
        taken = [a.email for a in sociallogin.email_addresses if _users_with_email(a.email)]
        if taken:
            logger.warning(
                "SSO sign-in refused: provider %s, subject %s, email in use by a local account "
                "it may not link to",
                sociallogin.account.provider,
                sociallogin.account.uid,
            )
            raise ImmediateHttpResponse(
                render(request, "socialaccount/link_refused.html", {"email": taken[0]}, status=403)
            )

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: Any = None,
        exception: Exception | None = None,
        extra_context: dict[str, Any] | None = None,
    ) -> None:
        # What went wrong, for the admin; never a token or a secret (the exception's
        # text is allauth's or PyJWT's own sentence).
        logger.warning(
            "SSO sign-in failed: provider %s, %s: %s",
            getattr(getattr(provider, "app", None), "provider_id", "?"),
            error,
            exception.__cause__ or exception if exception else "",
        )


class AccountAdapter(DefaultAccountAdapter):
    def add_message(self, *args: Any, **kwargs: Any) -> None:
        """chatsite's pages say what happened themselves; allauth's flash messages
        would only pile up in the session."""

    def respond_user_inactive(self, request: HttpRequest, user: AbstractBaseUser) -> HttpResponse:
        return render(request, "socialaccount/account_inactive.html", status=403)
