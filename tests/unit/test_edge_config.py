"""The edge's pieces that need no server: the Caddyfile's routes and the signed identity."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from services.router import ROUTES
from services.stack import CADDYFILE
from shared.auth import Principal
from shared.identity import Identity, IdentitySigner, InvalidIdentity

UPSTREAMS = {
    "FEEDS_URL": "FEEDS_UPSTREAM",
    "NOTIFICATIONS_URL": "NOTIFICATIONS_UPSTREAM",
    "MONITOR_URL": "MONITOR_UPSTREAM",
}


def caddy_routes() -> dict[str, str]:
    """Path pattern -> upstream variable, from the Caddyfile's named matchers."""
    text = CADDYFILE.read_text()
    routes: dict[str, str] = {}
    for name, paths in re.findall(r"@(\w+) path ([^\n]+)", text):
        upstream = re.search(rf"reverse_proxy @{name} \{{\$(\w+)\}}", text)
        if upstream:
            routes.update({path: upstream.group(1) for path in paths.split()})
    return routes


def test_caddy_routes_every_prefix_of_the_router_to_the_same_service():
    routes = caddy_routes()
    for prefix, variable in ROUTES.items():
        expected = UPSTREAMS[variable]
        assert routes.get(prefix) == expected, f"{prefix} should go to {expected}"
        if variable != "FEEDS_URL":  # a feed is one path; the others are whole subtrees
            assert routes.get(prefix + "/*") == expected, f"{prefix}/* should go to {expected}"
    assert set(routes) == set(ROUTES) | {p + "/*" for p, v in ROUTES.items() if v != "FEEDS_URL"}


def test_caddy_drops_a_client_identity_and_hides_the_edge_question():
    text = CADDYFILE.read_text()
    assert "request_header -X-Boucle-Identity" in text
    assert re.search(r"@internal path /auth/identity", text)
    assert "copy_headers X-Boucle-Identity" in text


NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SIGNER = IdentitySigner("the-secret")


def test_a_signed_identity_reads_back_as_it_was_signed():
    identity = Identity(Principal("org-1", "member-1", "admin"), "de")
    assert SIGNER.verify(SIGNER.sign(identity, NOW), NOW + timedelta(seconds=5)) == identity
    token_only = Identity(Principal("org-2"))
    assert SIGNER.verify(SIGNER.sign(token_only, NOW), NOW) == token_only


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (IdentitySigner("another-secret").sign(Identity(Principal("o")), NOW), "signature"),
        ("v1.e30", "malformed"),
        ("v2.e30.abc", "malformed"),
        ("anonymous", "malformed"),
    ],
)
def test_a_forged_or_malformed_identity_is_refused(value: str, reason: str):
    with pytest.raises(InvalidIdentity, match=reason):
        SIGNER.verify(value, NOW)


def test_an_identity_with_a_changed_role_or_an_old_date_is_refused():
    signed = SIGNER.sign(Identity(Principal("org-1", "member-1", "member")), NOW)
    version, _, mac = signed.split(".")
    admin = SIGNER.sign(Identity(Principal("org-1", "member-1", "admin")), NOW).split(".")[1]
    with pytest.raises(InvalidIdentity, match="signature"):
        SIGNER.verify(f"{version}.{admin}.{mac}", NOW)
    with pytest.raises(InvalidIdentity, match="too old"):
        SIGNER.verify(signed, NOW + timedelta(seconds=SIGNER.max_age_s + 1))
