"""Which webhook URLs the notifier may call: checked at registration and again before each call.

The host name is resolved and every address it resolves to is checked; the call then goes to
the checked address itself, so a DNS answer that changes in between (rebinding) cannot
redirect it to the internal network.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

Resolver = Callable[[str, int], list[str]]
MAX_URL_LENGTH = 2000


class UnsafeUrl(ValueError):
    """A URL the notifier refuses to call; the message says why."""


class ResolutionUnavailable(UnsafeUrl):
    """The name could not be resolved for now (EAI_AGAIN): refused today, worth trying again."""


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (`address`) and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (the system resolver)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        # EAI_AGAIN is the resolver failing (timeout, SERVFAIL), not an answer about the name.
        if exc.errno == socket.EAI_AGAIN:
            raise ResolutionUnavailable(
                f"{host} does not resolve right now, try again later: {exc.strerror}"
            ) from exc
        raise UnsafeUrl(f"{host} does not resolve: {exc.strerror}") from exc
    except (UnicodeError, ValueError) as exc:
        raise UnsafeUrl(f"{host!r} is not a valid host name") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


#: NAT64 (RFC 6052): the last 32 bits are the IPv4 address the gateway reaches.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
#: Local-use NAT64 (RFC 8215) translates into the operator's own network, and where the
#: IPv4 address sits depends on a prefix length we cannot know: refused outright.
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated (RFC 4291, 2.5.5.1)
_IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # RFC 2765
#: IPv6 ranges refused even when the IPv4 address they embed is public.
_TUNNELS = {
    # Teredo reaches its client through whatever relay the network picks, never a fixed path.
    ipaddress.ip_network("2001::/32"): "Teredo tunnel",
    # No public server is reached through these forms.
    _IPV4_COMPATIBLE: "deprecated IPv4-compatible",
    _IPV4_TRANSLATED: "IPv4-translated",
}


def _forbidden(address: str) -> str | None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip in _NAT64_LOCAL:
        return "local-use NAT64"
    # An IPv6 form of an IPv4 address is judged by the IPv4 address it leads to.
    embedded: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = list(_embedded_ipv4(ip))
    for candidate in embedded or [ip]:
        for kind in ("unspecified", "loopback", "link_local", "multicast", "reserved", "private"):
            if getattr(candidate, f"is_{kind}"):
                return kind.replace("_", "-")
        if not candidate.is_global:
            return "non-public"
    return _tunnel(ip)


def _tunnel(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """The kind of IPv6 transition address refused even when it leads to a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        for network, kind in _TUNNELS.items():
            if ip in network:
                return kind
    return None


def _embedded_ipv4(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address leads to: IPv4-mapped, IPv4-compatible, IPv4-translated,
    6to4, Teredo, NAT64.

    Each is a way to reach 127.0.0.1 or 10.0.0.7 through an address that looks public.
    """
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    found = [ip.ipv4_mapped, ip.sixtofour]
    if ip.teredo is not None:
        found += list(ip.teredo)  # (server, client)
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    compatible = ip in _IPV4_COMPATIBLE and int(ip) > 1  # :: and ::1 are IPv6's own
    if compatible or ip in _NAT64 or ip in _IPV4_TRANSLATED:
        found.append(low32)
    return [address for address in found if address is not None]


def check_url(
    url: str, *, allow_private: bool, require_https: bool, resolver: Resolver = resolve
) -> Target:
    """The target of a URL the notifier may call, or UnsafeUrl saying why it may not."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"longer than {MAX_URL_LENGTH} characters")
    if any(ord(c) < 33 or ord(c) == 127 for c in url.strip()):
        raise UnsafeUrl("spaces and control characters are not allowed in the URL")
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise UnsafeUrl(f"not a valid URL: {exc}") from exc
    allowed = ("https",) if require_https else ("https", "http")
    if parts.scheme not in allowed:
        raise UnsafeUrl("only https URLs are accepted" if require_https else "use http or https")
    if parts.username or parts.password:
        raise UnsafeUrl("credentials in the URL are not accepted")
    if not parts.hostname:
        raise UnsafeUrl("the URL has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeUrl("the port is not valid") from exc
    addresses = resolver(parts.hostname, port)
    if not addresses:
        raise UnsafeUrl(f"{parts.hostname} does not resolve")
    if not allow_private:
        for address in addresses:
            kind = _forbidden(address)
            if kind:
                raise UnsafeUrl(f"{parts.hostname} resolves to {address}, a {kind} address")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, path, addresses[0])
