"""Personal API keys: made with a secret shown once, kept as a hash and its last four
characters, found by the hash of what a request presents, revoked at once."""

import datetime
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from chat.models import ApiKey, User

KEY_PREFIX = "csk-"  # recognisable in a leaked file, and by secret scanners
NAME_MAX = ApiKey._meta.get_field("name").max_length or 100


class ApiKeyInvalid(Exception):
    """No key, an unknown one, or one revoked, expired or of a deactivated user: the
    client is told only that the key is not valid."""


class ApiKeyRefused(Exception):
    """What the user asked for a new key cannot be: the message says why."""


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str  # shown to its owner once, never stored


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_create(
    *,
    user: User,
    name: str,
    expires_at: datetime.datetime | None = None,
    allowed_models: Sequence[str] = (),
) -> NewKey:
    name = name.strip()
    if not name:
        raise ApiKeyRefused(gettext("Give the key a name, to tell it from your others."))
    if len(name) > NAME_MAX:
        raise ApiKeyRefused(
            gettext("A key's name has at most %(limit)s characters.") % {"limit": NAME_MAX}
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise ApiKeyRefused(gettext("A key's expiry must be in the future."))
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        user=user,
        name=name,
        key_hash=_hash(secret),
        last_four=secret[-4:],
        allowed_models=sorted({m.strip() for m in allowed_models if m.strip()}),
        expires_at=expires_at,
    )
    return NewKey(key=key, secret=secret)


def api_key_revoke(*, user: User, key_id: int) -> None:
    """Revoke one of the user's own keys (another user's id is DoesNotExist, like a
    missing one); the next request with it is refused, on every process."""
    key = ApiKey.objects.get(pk=key_id, user=user)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])


def api_keys_revoke_all(keys: QuerySet[ApiKey]) -> int:
    """Revoke many keys at once (the admin's action)."""
    return keys.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_key_authenticate(authorization: str | None) -> ApiKey:
    """The key a request's `Authorization: Bearer <key>` header presents, with its user,
    if it may be used now; else ApiKeyInvalid. Keys are accepted in no other place."""
    scheme, _, secret = (authorization or "").partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret.startswith(KEY_PREFIX):
        raise ApiKeyInvalid
    digest = _hash(secret)
    key = ApiKey.objects.select_related("user").filter(key_hash=digest).first()
    # The lookup is by hash; the comparison is in constant time all the same.
    if key is None or not hmac.compare_digest(key.key_hash, digest):
        raise ApiKeyInvalid
    now = timezone.now()
    if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
        raise ApiKeyInvalid
    if not key.user.is_active:
        raise ApiKeyInvalid
    # At most once a minute: a busy key does not write on every request.
    if key.last_used_at is None or now - key.last_used_at > datetime.timedelta(minutes=1):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def api_key_still_valid(key_id: int) -> bool:
    """Whether a key is still usable (asked again before each request it serves)."""
    now = timezone.now()
    return (
        ApiKey.objects.filter(pk=key_id, revoked_at__isnull=True, user__is_active=True)
        .exclude(expires_at__lte=now)
        .exists()
    )
