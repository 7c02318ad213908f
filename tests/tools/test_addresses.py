"""A remote MCP server's URL may not reach the site's own network unless the admin
allows that server: loopback, private and link-local addresses are refused."""

import pytest

from chat.tools.addresses import AddressRefused, mcp_url_check


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/mcp",
        "http://localhost/mcp",
        "http://10.1.2.3/mcp",
        "http://192.168.0.10/mcp",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/mcp",
        "http://0.0.0.0/mcp",
        "http://100.100.100.200/latest/meta-data",  # shared space: a cloud's metadata
        "http://[2002:7f00:1::]/mcp",  # 6to4 of 127.0.0.1
        "http://[::ffff:10.0.0.1]/mcp",
        "http://[fd00::1]/mcp",
    ],
)
def test_the_site_s_own_network_is_refused(url):
    with pytest.raises(AddressRefused, match="loopback or private"):
        mcp_url_check(url, allow_private=False)


def test_an_allowed_server_may_be_private():
    assert mcp_url_check("http://127.0.0.1:8000/mcp", allow_private=True) is None


def test_a_public_address_passes_and_is_the_one_to_connect_to():
    assert mcp_url_check("https://1.1.1.1/mcp", allow_private=False) == "1.1.1.1"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x", "http:///mcp"])
def test_only_http_urls_with_a_host_are_taken(url):
    with pytest.raises(AddressRefused, match="http"):
        mcp_url_check(url, allow_private=True)
