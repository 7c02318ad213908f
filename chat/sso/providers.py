"""Providers made in the admin (IdentityProvider), as allauth sees a provider."""

from allauth.socialaccount.models import SocialApp

from chat.crypto import secret_decrypt, secret_encrypt, secret_hint
from chat.models import IdentityProvider

OIDC = "openid_connect"  # allauth's name of the protocol; each provider has its own slug


def identity_provider_secret_set(row: IdentityProvider, secret: str) -> None:
    """Keep the client secret encrypted, and a hint of it to show; never the secret."""
    row.client_secret_encrypted = secret_encrypt(secret)
    row.client_secret_hint = secret_hint(secret)


def social_app_of(row: IdentityProvider) -> SocialApp:
    """An admin-made provider as allauth knows one (built for the sign-in, never saved)."""
    return SocialApp(
        provider=OIDC,
        provider_id=row.slug,
        name=row.name,
        client_id=row.client_id,
        secret=secret_decrypt(row.client_secret_encrypted),
        settings={"server_url": row.issuer.rstrip("/"), "scope": row.scopes.split()},
    )
