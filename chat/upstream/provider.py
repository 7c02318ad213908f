"""Which provider chatsite talks to. Keys stay on the server: nothing here is rendered."""

from dataclasses import dataclass, field

from django.conf import settings

DEMO_BASE_URL = "http://demo.chatsite.invalid/v1"
DEMO_MODEL = "chatsite-demo"


@dataclass(frozen=True)
class Provider:
    name: str
    base_url: str
    api_key: str = field(repr=False, default="")
    default_model: str = ""
    is_demo: bool = False


def default_provider() -> Provider:
    if settings.LLM_BASE_URL:
        return Provider(
            name="default",
            base_url=settings.LLM_BASE_URL,
            api_key=settings.LLM_API_KEY,
            default_model=settings.LLM_MODEL,
        )
    return Provider(name="demo", base_url=DEMO_BASE_URL, default_model=DEMO_MODEL, is_demo=True)
