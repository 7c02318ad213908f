"""Static files: hashed names, compressed, cached for good (WhiteNoise, after collectstatic)."""

import re

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_pages_link_hashed_static_files_served_compressed_and_cached_for_good(alice):
    client = Client()
    client.force_login(alice)
    page = client.get(reverse("chat:home")).content.decode()
    stylesheet = re.search(r'href="(/static/css/chatsite\.[0-9a-f]{12}\.css)"', page)
    assert stylesheet, "the page links the hashed name"

    response = client.get(stylesheet.group(1), HTTP_ACCEPT_ENCODING="gzip, br")

    assert response.status_code == 200
    assert response.headers["Content-Encoding"] in {"gzip", "br"}
    assert "immutable" in response.headers["Cache-Control"]
    assert "max-age=315360000" in response.headers["Cache-Control"]


def test_es_module_imports_point_at_hashed_names_too(alice):
    client = Client()
    client.force_login(alice)
    page = client.get(reverse("chat:home")).content.decode()
    main = re.search(r'src="(/static/js/main\.[0-9a-f]{12}\.js)"', page).group(1)
    script = b"".join(client.get(main).streaming_content).decode()
    assert re.search(r'from "\./socket\.[0-9a-f]{12}\.js"', script)
