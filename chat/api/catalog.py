"""The models a key may call, with the ids /v1/models lists: the model's own id where one
provider offers it, else `<provider>/<model>` (always accepted too)."""

from dataclasses import dataclass

from asgiref.sync import sync_to_async

from chat.models import ApiKey
from chat.services.providers import (
    OfferedModel,
    model_choices,
    provider_get,
    providers_enabled,
    user_allowed_models,
)
from chat.upstream.provider import Provider


@dataclass(frozen=True)
class ApiModel:
    id: str
    offered: OfferedModel

    @property
    def qualified(self) -> str:
        return f"{self.offered.provider or self.offered.provider_title}/{self.offered.model}"


async def api_models(key: ApiKey) -> list[ApiModel]:
    providers, allowed = await sync_to_async(_sources)(key)
    choices = await model_choices(providers=providers, allowed=allowed)
    offered = [
        choice
        for choice in choices.models
        if not key.allowed_models or choice.model in key.allowed_models
    ]
    counts: dict[str, int] = {}
    for choice in offered:
        counts[choice.model] = counts.get(choice.model, 0) + 1
    return [
        ApiModel(
            id=choice.model
            if counts[choice.model] == 1
            else f"{choice.provider or choice.provider_title}/{choice.model}",
            offered=choice,
        )
        for choice in offered
    ]


def _sources(key: ApiKey) -> tuple[list[Provider], list[str]]:
    return providers_enabled(), user_allowed_models(key.user)


def api_model_find(models: list[ApiModel], requested: str) -> ApiModel | None:
    for model in models:
        if requested in (model.id, model.qualified):
            return model
    return None


def api_model_provider(model: ApiModel) -> Provider:
    return provider_get(model.offered.provider)
