import pytest
from django.test import AsyncClient

pytestmark = pytest.mark.django_db(transaction=True)


async def test_health_reports_the_database_and_channel_layer_ok():
    response = await AsyncClient().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "channel_layer": "ok"}


async def test_health_says_503_when_the_database_fails(monkeypatch):
    def broken_database() -> None:
        raise RuntimeError("database down")

    monkeypatch.setattr("chat.web.health.database_check", broken_database)
    response = await AsyncClient().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "failing", "channel_layer": "ok"}


async def test_health_says_503_when_the_channel_layer_fails(monkeypatch, settings):
    from channels.layers import get_channel_layer

    layer = get_channel_layer()

    async def broken_send(channel, message):
        raise RuntimeError("layer down")

    monkeypatch.setattr(layer, "send", broken_send)
    response = await AsyncClient().get("/healthz")
    assert response.status_code == 503
    assert response.json()["channel_layer"] == "failing"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
async def test_health_answers_405_to_any_method_but_get_and_head(method):
    response = await getattr(AsyncClient(), method)("/healthz")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD"}


async def test_health_answers_head_like_get():
    response = await AsyncClient().head("/healthz")
    assert response.status_code == 200
