"""The provider's model list, asked for at most once per process, base URL and cache period."""

import time

from django.conf import settings

from chat import texts
from chat.upstream.client import UpstreamClient
from chat.upstream.errors import FailureKind, UpstreamError

# base URL -> (when fetched, model ids)
_listed: dict[str, tuple[float, list[str]]] = {}


async def models_list(client: UpstreamClient, *, refresh: bool = False) -> list[str]:
    """GET /models, cached for LLM_MODELS_CACHE_SECONDS; `refresh` asks again now."""
    base_url = client.provider.base_url
    cached = _listed.get(base_url)
    if cached and not refresh and time.monotonic() - cached[0] < settings.LLM_MODELS_CACHE_SECONDS:
        return cached[1]
    models = await client.list_models()
    _listed[base_url] = (time.monotonic(), models)
    return models


async def model_default(client: UpstreamClient) -> str:
    """The configured default model, else the first one the provider lists."""
    provider = client.provider
    if provider.default_model:
        return provider.default_model
    models = await models_list(client)
    if not models:
        raise UpstreamError(
            texts.PROVIDER_NO_MODELS,
            kind=FailureKind.STATUS,
            retryable=False,
        )
    return models[0]


def models_forget() -> None:
    """For tests: ask every provider again."""
    _listed.clear()
