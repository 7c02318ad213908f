"""Where a remote MCP server may be: never the site's own network (loopback, private,
link-local, reserved addresses) unless the admin allows that server. Checked when the
URL is saved and again at every connection, on every address the name resolves to; the
connection then goes to an address that was checked (chat/tools/client.py pins it), so a
name that resolves elsewhere a moment later (DNS rebinding) changes nothing."""

import ipaddress
import socket
from urllib.parse import urlsplit


class AddressRefused(Exception):
    """The URL may not be reached; the message says why."""


def _forbidden(address: str) -> bool:
    """Anything but a public unicast address: private, loopback, link-local, shared
    (100.64/10, where some clouds keep their metadata), reserved, multicast; and an IPv6
    address that carries an IPv4 one (mapped, 6to4, Teredo) is judged by that too."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    inside: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        inside += [a for a in (ip.ipv4_mapped, ip.sixtofour) if a is not None]
        inside += list(ip.teredo or ())
    return any(not a.is_global or a.is_multicast for a in inside)


def mcp_url_check(url: str, *, allow_private: bool) -> str | None:
    """Refuse a URL of the site's own network; return the checked address to connect to
    (None for a server allowed anywhere: its name is resolved as usual)."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise AddressRefused("An MCP server's URL is http:// or https:// with a host.")
    if allow_private:
        return None
    try:
        found = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise AddressRefused(f"{parts.hostname} cannot be resolved: {exc}") from None
    addresses = {str(info[4][0]) for info in found}
    private = sorted(a for a in addresses if _forbidden(a))
    if private:
        where = "" if private == [parts.hostname] else f" (at {', '.join(private)})"
        raise AddressRefused(
            f"{parts.hostname}{where} is a loopback or private address. Tick “Allow "
            "private” for this server only if you run it on the site's own network."
        )
    return sorted(addresses)[0]
