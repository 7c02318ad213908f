"""Which providers and models a user may use: the default one from the environment, the
ones admins add, narrowed by the admin's model lists and the user's allowed models."""

import logging
from dataclasses import dataclass

from django.utils.translation import gettext

from chat.crypto import SecretUnreadable, secret_decrypt, secret_encrypt, secret_hint
from chat.models import Provider as ProviderRow
from chat.models import User, UserLimits
from chat.services.usage.ledger import price_find
from chat.services.usage.limits import Allowance, group_limits_of, models_allowed
from chat.upstream.client import UpstreamClient
from chat.upstream.errors import UpstreamError
from chat.upstream.model_list import models_list
from chat.upstream.provider import Provider, default_provider

logger = logging.getLogger(__name__)


class ModelNotAllowed(Exception):
    """The chosen provider or model is not offered to this user."""


@dataclass(frozen=True)
class OfferedModel:
    provider: str  # the slug a conversation stores; "" for the default provider
    provider_title: str
    model: str


@dataclass(frozen=True)
class ModelChoices:
    models: list[OfferedModel]
    default: OfferedModel | None
    # Providers whose model list could not be fetched: the page says so.
    errors: list[str]


def _from_row(row: ProviderRow) -> Provider:
    return Provider(
        name=row.slug,
        slug=row.slug,
        title=row.name,
        base_url=row.base_url,
        api_key=secret_decrypt(row.api_key_encrypted),
        offered_models=tuple(row.enabled_models or ()),
    )


def provider_get(slug: str) -> Provider:
    """The provider a conversation uses; raises ModelNotAllowed for an unknown or disabled one."""
    if not slug:
        return default_provider()
    try:
        return _from_row(ProviderRow.objects.get(slug=slug, enabled=True))
    except ProviderRow.DoesNotExist:
        raise ModelNotAllowed(
            gettext("The provider %(name)s is not available.") % {"name": repr(slug)}
        ) from None


def providers_enabled() -> list[Provider]:
    """The default provider and every enabled one whose key can be read."""
    providers = [default_provider()]
    for row in ProviderRow.objects.filter(enabled=True).order_by("name"):
        try:
            providers.append(_from_row(row))
        except SecretUnreadable:
            # One unreadable key must not take the model picker down for everyone.
            logger.error("provider %s: its API key cannot be decrypted; skipped", row.slug)
    return providers


def provider_key_set(row: ProviderRow, api_key: str) -> None:
    """Keep the key encrypted, and a hint of it to show; never the key itself."""
    row.api_key_encrypted = secret_encrypt(api_key)
    row.api_key_hint = secret_hint(api_key)


def model_sources(user: User) -> tuple[list[Provider], list[str]]:
    """What model_choices needs for this user: the providers, and their allowed models."""
    return providers_enabled(), user_allowed_models(user)


def user_allowed_models(user: User) -> list[str]:
    """What the model picker offers: the rule of the limits check (models_allowed)."""
    own = UserLimits.objects.filter(user=user).only("allowed_models").first()
    return models_allowed(own, group_limits_of(user.pk))


def model_choice_check(*, provider: Provider, model: str, allowance: Allowance) -> None:
    """Raises ModelNotAllowed unless the user may send to this provider (as provider_get
    resolved it, once per send) and model ("" is the provider's configured default model):
    offered by the admin's list, among the user's allowed models, and priced when the
    user's budget is counted in cost."""
    config = provider
    model = model or config.default_model
    allowed = allowance.allowed_models
    if not model:
        # The provider's first listed model, known only when the answer starts.
        if allowed or config.offered_models or allowance.cost_limited:
            raise ModelNotAllowed(gettext("Choose one of the models offered to you in the picker."))
        return
    if config.offered_models and model not in config.offered_models:
        raise ModelNotAllowed(
            gettext("The model %(name)s is not offered: choose another.") % {"name": repr(model)}
        )
    if allowed and model not in allowed:
        raise ModelNotAllowed(
            gettext("You may not use the model %(name)s: choose another.") % {"name": repr(model)}
        )
    if allowance.cost_limited and price_find(provider=config.name, model=model) is None:
        raise ModelNotAllowed(
            gettext(
                "The model %(name)s has no price yet and your budget is counted in cost: "
                "choose a priced model, or ask an admin to price it."
            )
            % {"name": repr(model)}
        )


async def model_choices(
    *, providers: list[Provider], allowed: list[str], refresh: bool = False
) -> ModelChoices:
    """Every model offered, from the admin's lists or each provider's GET /models (cached)."""
    offered: list[OfferedModel] = []
    errors: list[str] = []
    for provider in providers:
        ids = list(provider.offered_models)
        if not ids:
            try:
                ids = await models_list(UpstreamClient(provider), refresh=refresh)
            except UpstreamError as exc:
                logger.warning("could not list the models of %s: %s", provider.name, exc)
                errors.append(f"{provider.title}: {exc}")
                ids = [provider.default_model] if provider.default_model else []
        offered += [
            OfferedModel(provider.slug, provider.title or provider.name, model)
            for model in ids
            if not allowed or model in allowed
        ]
    default = _default_choice(providers[0] if providers else None, offered)
    return ModelChoices(models=offered, default=default, errors=errors)


def _default_choice(default: Provider | None, offered: list[OfferedModel]) -> OfferedModel | None:
    if default is not None and default.default_model:
        for choice in offered:
            if choice.provider == default.slug and choice.model == default.default_model:
                return choice
    return offered[0] if offered else None
