"""Read settings from the environment, failing loudly on values that make no sense."""

import json
import os
from typing import Any

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, "").strip().lower() or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_json_object(name: str) -> dict[str, Any]:
    """A JSON object from the environment (empty when unset)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ImproperlyConfigured(f"{name} must be a JSON object: {exc}") from None
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"{name} must be a JSON object, not {type(value).__name__}")
    return value


def sso_app_from_env(name: str) -> dict[str, object]:
    """One OpenID Connect provider named in SSO_PROVIDERS, as django-allauth's settings
    describe an app: SSO_<NAME>_ISSUER, _CLIENT_ID and _CLIENT_SECRET are required."""
    slug = name.strip().lower()
    if not slug or not all(c.isalnum() or c in "-_" for c in slug):
        raise ImproperlyConfigured(f"SSO_PROVIDERS: {name!r} is not a short name (a-z, 0-9, -)")
    if slug == "openid_connect":  # the protocol's name in django-allauth
        raise ImproperlyConfigured("SSO_PROVIDERS: openid_connect is taken; choose another name")
    prefix = f"SSO_{slug.upper().replace('-', '_')}_"
    missing = [
        prefix + key
        for key in ("ISSUER", "CLIENT_ID", "CLIENT_SECRET")
        if not os.environ.get(prefix + key)
    ]
    if missing:
        raise ImproperlyConfigured(f"SSO provider {slug!r} needs {', '.join(missing)}")
    return {
        "provider_id": slug,
        "name": env_str(prefix + "LABEL", slug),
        "client_id": os.environ[prefix + "CLIENT_ID"],
        "secret": os.environ[prefix + "CLIENT_SECRET"],
        "settings": {
            "server_url": os.environ[prefix + "ISSUER"].rstrip("/"),
            # Space- or comma-separated, as providers write them.
            "scope": env_str(prefix + "SCOPES", "openid email profile").replace(",", " ").split(),
        },
    }
