"""Which provider chatsite talks to. Keys stay on the server: nothing here is rendered."""

from dataclasses import dataclass, field

from django.conf import settings

from chat.fake_upstream.app import MODELS

DEMO_BASE_URL = "http://demo.chatsite.invalid/v1"
DEMO_MODEL = MODELS[0]  # the demo provider is the fake upstream, called in-process


@dataclass(frozen=True)
class Provider:
    # What the ledger records: the slug of an admin-added provider, or the default's name.
    name: str
    base_url: str
    api_key: str = field(repr=False, default="")
    default_model: str = ""
    is_demo: bool = False
    # The slug conversations store: empty for the default provider.
    slug: str = ""
    title: str = ""
    # Models offered to users; empty offers every model the provider lists.
    offered_models: tuple[str, ...] = ()


def default_provider() -> Provider:
    if settings.LLM_BASE_URL:
        return Provider(
            name=settings.LLM_PROVIDER_NAME,
            title=settings.LLM_PROVIDER_NAME,
            base_url=settings.LLM_BASE_URL,
            api_key=settings.LLM_API_KEY,
            default_model=settings.LLM_MODEL,
            offered_models=tuple(settings.LLM_MODELS),
        )
    return Provider(
        name="demo",
        title="Demo (offline)",
        base_url=DEMO_BASE_URL,
        default_model=DEMO_MODEL,
        is_demo=True,
    )
