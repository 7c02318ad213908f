"""The provider's model list, asked for once per process and base URL."""

from chat.upstream.client import UpstreamClient
from chat.upstream.errors import FailureKind, UpstreamError

_default_models: dict[str, str] = {}


async def model_default(client: UpstreamClient) -> str:
    """The configured default model, else the first one the provider lists."""
    provider = client.provider
    if provider.default_model:
        return provider.default_model
    cached = _default_models.get(provider.base_url)
    if cached:
        return cached
    models = await client.list_models()
    if not models:
        raise UpstreamError(
            "The provider lists no models; set LLM_MODEL to choose one.",
            kind=FailureKind.STATUS,
            retryable=False,
        )
    _default_models[provider.base_url] = models[0]
    return models[0]
