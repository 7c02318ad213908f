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


def test_browser_libraries_from_node_modules_are_served_hashed_and_imported_by_hashed_name(
    alice,
):
    client = Client()
    client.force_login(alice)
    page = client.get(reverse("chat:home")).content.decode()
    main = re.search(r'src="(/static/js/main\.[0-9a-f]{12}\.js)"', page).group(1)
    messages = re.search(r'"\./(messages\.[0-9a-f]{12}\.js)"', _text(client, main)).group(1)
    markdown = re.search(
        r'"\./(markdown\.[0-9a-f]{12}\.js)"', _text(client, f"/static/js/{messages}")
    )
    script = _text(client, f"/static/js/{markdown.group(1)}")
    for library in [
        r"dompurify/purify\.es\.[0-9a-f]{12}\.mjs",
        r"highlight/highlight\.min\.[0-9a-f]{12}\.js",
        r"katex/katex\.[0-9a-f]{12}\.mjs",
        r"marked/marked\.esm\.[0-9a-f]{12}\.js",
    ]:
        path = re.search(rf'from "\.\./vendor/({library})"', script)
        assert path, f"{library} is imported by its hashed name"
        response = client.get(f"/static/vendor/{path.group(1)}")
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/javascript")
    theme = re.search(
        r'href="(/static/vendor/highlight/github-dark\.min\.[0-9a-f]{12}\.css)"', page
    )
    assert theme, "the dark highlighting theme is linked by its hashed name"


def test_the_vendor_finder_lists_only_the_files_it_names():
    from chatsite.vendor import VENDOR_FILES, VendorFinder

    listed = [path for path, _ in VendorFinder().list(None)]

    assert listed == list(VENDOR_FILES)
    assert VendorFinder().find("vendor/katex/katex.mjs").endswith("katex/dist/katex.mjs")
    assert VendorFinder().find("vendor/katex/katex.js") == []


def _text(client: Client, path: str) -> str:
    return b"".join(client.get(path).streaming_content).decode()
