"""The models a key may call, with the ids /v1/models lists: the model's own id where one
provider offers it, else `<provider>/<model>` (always accepted too)."""

from collections import Counter
from dataclasses import dataclass

from asgiref.sync import sync_to_async

from chat.models import ApiKey
from chat.services.providers import (
    OfferedModel,
    model_choices,
    model_sources,
    provider_get,
)
from chat.upstream.provider import Provider


@dataclass(frozen=True)
class ApiModel:
    id: str
    offered: OfferedModel

    @property
    def qualified(self) -> str:
        return _qualified(self.offered)


async def api_models(key: ApiKey) -> list[ApiModel]:
    """The models the key may call. A model's own id is its API id only where nothing
    else offered could be read as that id (another provider's model of the same name, or
    a `<provider>/<model>` that spells it); else the qualified form."""
    providers, allowed = await sync_to_async(model_sources)(key.user)
    choices = (await model_choices(providers=providers, allowed=allowed)).models
    return api_models_listed(choices, key.allowed_models)


def api_models_listed(choices: list[OfferedModel], key_models: list[str]) -> list[ApiModel]:
    qualified = [_qualified(choice) for choice in choices]
    names = Counter(choice.model for choice in choices)
    listed = [
        ApiModel(
            id=choice.model
            if names[choice.model] == 1 and choice.model not in qualified
            else qualified[i],
            offered=choice,
        )
        for i, choice in enumerate(choices)
    ]
    if key_models:
        # The key's list names models as /v1/models lists them (either form).
        listed = [m for m in listed if {m.id, m.qualified} & set(key_models)]
    return listed


def _qualified(choice: OfferedModel) -> str:
    return f"{choice.provider or choice.provider_title}/{choice.model}"


def api_model_find(models: list[ApiModel], requested: str) -> ApiModel | None:
    """The model a request names: by its listed id first, else by its qualified form."""
    for model in models:
        if requested == model.id:
            return model
    for model in models:
        if requested == model.qualified:
            return model
    return None


def api_model_provider(model: ApiModel) -> Provider:
    return provider_get(model.offered.provider)
