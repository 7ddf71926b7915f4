"""Webhook URLs: https outside development, and never the private network unless allowed."""

from __future__ import annotations

import pytest

from notifications.channels.netguard import UnsafeUrl, check_url


def resolving_to(*addresses: str):  # type: ignore[no-untyped-def]
    return lambda host, port: list(addresses)


def check(url: str, *addresses: str, private: bool = False, https: bool = True):  # type: ignore[no-untyped-def]
    return check_url(
        url, allow_private=private, require_https=https, resolver=resolving_to(*addresses)
    )


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.1.10", "private"),
        ("169.254.169.254", "link-local"),  # the cloud metadata service
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("::ffff:127.0.0.1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "non-public"),
        # IPv6 forms that lead to a private IPv4 address: 6to4, Teredo, NAT64.
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("2002:a00:7::1", "private"),  # 6to4 of 10.0.0.7
        ("2001:0:4136:e378:8000:63bf:f5ff:fff8", "private"),  # Teredo, client 10.0.0.7
        ("64:ff9b::a00:7", "private"),  # NAT64 of 10.0.0.7
        ("64:ff9b::10.0.0.1", "private"),  # the same, written the usual way
        ("2002:a9fe:a9fe::1", "link-local"),  # 6to4 of the metadata service
        ("::ffff:10.0.0.1", "private"),  # IPv4-mapped
        ("::127.0.0.1", "loopback"),  # IPv4-compatible (deprecated)
        ("::ffff:0:a00:1", "private"),  # IPv4-translated of 10.0.0.1
        ("fe80::1%eth0", "link-local"),  # with a zone
    ],
)
def test_an_address_on_a_private_network_is_refused(address: str, kind: str) -> None:
    with pytest.raises(UnsafeUrl, match=kind):
        check("https://hooks.example.org/in", address)


def test_one_private_address_among_public_ones_is_enough_to_refuse() -> None:
    with pytest.raises(UnsafeUrl, match=r"10\.0\.0\.5"):
        check("https://hooks.example.org/in", "93.184.216.34", "10.0.0.5")


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("64:ff9b:1::5db8:d822", "local-use NAT64"),  # RFC 8215: the operator's own network
        ("2001:0:4136:e378:8000:63bf:a2ff:fff8", "Teredo tunnel"),  # client 93.0.0.7, public
        ("::93.184.216.34", "IPv4-compatible"),
        ("::ffff:0:5db8:d822", "IPv4-translated"),
    ],
)
def test_transition_forms_with_no_fixed_public_path_are_refused(address: str, kind: str) -> None:
    with pytest.raises(UnsafeUrl, match=kind):
        check("https://hooks.example.org/in", address)


@pytest.mark.parametrize("address", ["2002:5db8:d822::1", "::ffff:93.184.216.34"])
def test_6to4_and_mapped_forms_of_a_public_server_are_accepted(address: str) -> None:
    assert check("https://hooks.example.org/in", address).address == address


def test_a_nat64_address_of_a_public_server_is_accepted() -> None:
    target = check("https://hooks.example.org/in", "64:ff9b::5db8:d822")  # 93.184.216.34
    assert target.host == "hooks.example.org"


def test_a_public_https_url_is_accepted_and_pinned_to_its_checked_address() -> None:
    target = check("https://hooks.example.org:8443/in?x=1", "93.184.216.34")
    assert (target.host, target.port, target.path, target.address) == (
        "hooks.example.org",
        8443,
        "/in?x=1",
        "93.184.216.34",
    )


def test_plain_http_is_refused_outside_development() -> None:
    with pytest.raises(UnsafeUrl, match="https"):
        check("http://hooks.example.org/in", "93.184.216.34")
    assert check("http://hooks.example.org/in", "93.184.216.34", https=False).port == 80


def test_private_networks_are_allowed_only_when_the_setting_says_so() -> None:
    assert check("http://127.0.0.1:9000/", "127.0.0.1", private=True, https=False).port == 9000


@pytest.mark.parametrize(
    "url",
    ["ftp://hooks.example.org/", "https://user:pw@hooks.example.org/", "https:///path", "x" * 3000],
)
def test_malformed_or_credential_bearing_urls_are_refused(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        check(url, "93.184.216.34")


def test_a_name_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(UnsafeUrl, match="does not resolve"):
        check_url(
            "https://no-such-host.invalid/",
            allow_private=False,
            require_https=True,
        )


@pytest.mark.parametrize("url", ["https://[::1", "https://exa\x00mple.org/", "https://a b.org/"])
def test_urls_that_do_not_parse_are_refused_with_a_reason(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        check(url, "93.184.216.34")
