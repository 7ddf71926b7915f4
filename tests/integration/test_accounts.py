"""Accounts as members use them: confirm addresses, reset a password, manage the profile and
the members, take the data away, leave. Real PostgreSQL; the e-mails' links are read from
the events the listings service queues for the notifier (its outbox)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from listings.tables import AccountLinkRow, MemberRow, OutboxRow
from shared.db import service_database, unit_of_work
from shared.events import decode_event
from tests.conftest import random_id
from tests.integration.listings_client import listing_body, listings_app, register

pytestmark = pytest.mark.postgres
PASSWORD = "a long enough password"


@pytest.fixture
def app(postgres_url: str) -> Flask:
    return listings_app(postgres_url, RATE_LIMITS="off")


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def sessions(postgres_url: str) -> Any:
    return service_database(postgres_url, "listings")[1]


def csrf(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="(?:[a-z]+-)?csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def post_form(client: FlaskClient, path: str, page: str, **fields: str) -> Any:
    token = csrf(client, page)
    data = {"csrf_token": token, **{k: v for k, v in fields.items()}}
    # Prefixed forms of /account carry their token under their prefix as well.
    for prefix in ("profile", "login", "password", "invite", "delete"):
        data[f"{prefix}-csrf_token"] = token
    return client.post(path, data=data)


def log_in(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    return post_form(client, "/login", "/login", email=email, password=password)


def mails(sessions: Any, to: str) -> list[Any]:
    """The account e-mails queued for `to`, oldest first (decoded events)."""
    with unit_of_work(sessions) as session:
        rows = session.scalars(
            select(OutboxRow)
            .where(OutboxRow.event_type == "boucle.account.mail_requested")
            .order_by(OutboxRow.id)
        ).all()
        events = [decode_event(row.payload) for row in rows]
    return [event.data for event in events if event.data.to == to]


def link_path(mail: Any) -> str:
    return "/" + mail.link.split("/", 3)[3]


def member_account(client: FlaskClient) -> dict[str, Any]:
    """A registered organisation whose first member is logged in on `client`."""
    organisation = register(client)
    assert log_in(client, organisation["login"]["email"]).status_code == 302
    return organisation


def test_registration_asks_to_confirm_both_addresses_and_the_links_confirm_them_once(
    client: FlaskClient, sessions: Any
):
    organisation = member_account(client)
    login_email = organisation["login"]["email"]
    contact = organisation["organisation"]["contact_email"]
    page = client.get("/listings").get_data(as_text=True)
    assert "no alert is e-mailed there" in page and contact in page
    for address in (login_email, contact):
        (mail,) = mails(sessions, address)
        assert mail.kind == "confirm_email" and mail.language == "en"
        assert mail.expires_at > datetime.now(UTC) + timedelta(hours=24)
        followed = client.get(link_path(mail), follow_redirects=True).get_data(as_text=True)
        assert f"{address} is confirmed" in followed
        again = client.get(link_path(mail), follow_redirects=True).get_data(as_text=True)
        assert "already used" in again
    assert "no alert is e-mailed there" not in client.get("/listings").get_data(as_text=True)
    # Other services learn it from the organisations topic.
    with unit_of_work(sessions) as session:
        latest = session.scalars(
            select(OutboxRow)
            .where(OutboxRow.key == organisation["organisation"]["id"])
            .where(OutboxRow.event_type == "boucle.organisation.updated")
            .order_by(OutboxRow.id.desc())
        ).first()
        assert latest is not None
        data = decode_event(latest.payload).data
    assert data.contact_email_verified and data.members[0].email_verified


def test_an_expired_or_forged_link_confirms_nothing(client: FlaskClient, sessions: Any):
    organisation = member_account(client)
    email = organisation["login"]["email"]
    (mail,) = mails(sessions, email)
    with unit_of_work(sessions) as session:
        session.execute(update(AccountLinkRow).values(expires_at=datetime.now(UTC)))
    assert "expired" in client.get(link_path(mail), follow_redirects=True).get_data(as_text=True)
    forged = client.get("/account/confirm/not-a-token", follow_redirects=True)
    assert "not valid" in forged.get_data(as_text=True)
    with unit_of_work(sessions) as session:
        member = session.scalars(select(MemberRow).where(MemberRow.email == email)).one()
        assert member.email_verified is False


def test_a_new_contact_address_must_be_confirmed_again(client: FlaskClient, sessions: Any):
    organisation = member_account(client)
    for address in (organisation["login"]["email"], organisation["organisation"]["contact_email"]):
        client.get(link_path(mails(sessions, address)[0]))
    new_contact = f"{random_id('new')}@example.org"
    answer = post_form(
        client,
        "/account",
        "/account",
        **{
            "profile-name": organisation["organisation"]["name"],
            "profile-kind": "association",
            "profile-country": "LU",
            "profile-place": organisation["organisation"]["place"],
            "profile-description": "Réemploi de palettes",
            "profile-website": "https://example.org",
            "profile-contact_email": new_contact,
            "profile-phone": "",
            "profile-language": "fr",
        },
    )
    assert answer.status_code == 302
    page = client.get("/account").get_data(as_text=True)
    assert "Réemploi de palettes" in page
    assert new_contact in client.get("/listings").get_data(as_text=True)  # the banner
    assert [m.kind for m in mails(sessions, new_contact)] == ["confirm_email"]


def test_forgot_password_answers_alike_and_a_reset_ends_every_login(
    app: Flask, client: FlaskClient, sessions: Any
):
    organisation = member_account(client)
    email = organisation["login"]["email"]
    unknown = post_form(client, "/password/forgot", "/password/forgot", email="nobody@example.org")
    known = post_form(client, "/password/forgot", "/password/forgot", email=email)
    assert unknown.status_code == known.status_code == 302
    assert unknown.headers["Location"] == known.headers["Location"]
    assert mails(sessions, "nobody@example.org") == []
    (mail,) = [m for m in mails(sessions, email) if m.kind == "reset_password"]
    other_device = app.test_client()
    assert log_in(other_device, email).status_code == 302
    path = link_path(mail)
    new = "a brand new passphrase"
    reset = post_form(client, path, path, password=new, again=new)
    assert reset.status_code == 302
    assert other_device.get("/listings/new").status_code == 302, "old logins are dead"
    reused = post_form(client, path, "/password/forgot", password=new, again=new)
    assert "already used" in client.get(reused.headers["Location"]).get_data(as_text=True)
    assert log_in(app.test_client(), email, PASSWORD).status_code == 200  # refused: form again
    assert log_in(app.test_client(), email, new).status_code == 302


def test_changing_the_password_needs_the_current_one_and_ends_other_logins(
    app: Flask, client: FlaskClient
):
    organisation = member_account(client)
    email = organisation["login"]["email"]
    phone = app.test_client()
    log_in(phone, email)
    wrong = post_form(
        client,
        "/account/password",
        "/account",
        **{"password-current": "nope", "password-new": "x" * 12},
    )
    assert "not right" in client.get(wrong.headers["Location"]).get_data(as_text=True)
    assert phone.get("/listings/new").status_code == 200
    post_form(
        client,
        "/account/password",
        "/account",
        **{"password-current": PASSWORD, "password-new": "another long passphrase"},
    )
    assert phone.get("/listings/new").status_code == 302
    assert client.get("/listings/new").status_code == 200, "this login goes on"


def test_an_owner_invites_a_colleague_who_joins_then_is_removed_everywhere(
    app: Flask, client: FlaskClient, sessions: Any
):
    owner = member_account(client)
    colleague_email = f"{random_id('colleague')}@example.org"
    post_form(
        client,
        "/account/members",
        "/account",
        **{"invite-email": colleague_email, "invite-role": "member", "invite-language": "de"},
    )
    (invitation,) = mails(sessions, colleague_email)
    assert invitation.kind == "invitation" and invitation.language == "de"
    colleague = app.test_client()
    path = link_path(invitation)
    joined = post_form(colleague, path, path, name="Lena", language="de", password=PASSWORD)
    assert joined.status_code == 302
    assert colleague.get("/listings/new").status_code == 200
    token = colleague.post(
        "/api/v1/organisations/me/tokens",
        json={"name": "Lena's script"},
        headers={"X-CSRFToken": csrf(colleague, "/account")},
    ).get_json()["token"]
    assert (
        client.get(
            "/api/v1/organisations/me", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 200
    )
    members = client.get("/account").get_data(as_text=True)
    assert "Lena" in members and colleague_email in members
    member_id = re.search(r"Lena</td>.*?/account/members/([0-9a-f-]{36})/remove", members, re.S)
    assert member_id
    post_form(client, f"/account/members/{member_id.group(1)}/remove", "/account")
    assert colleague.get("/listings/new").status_code == 302, "the colleague's login ended"
    assert (
        client.get(
            "/api/v1/organisations/me", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 401
    ), "the token the colleague created is revoked"
    assert owner["headers"]["Authorization"] != f"Bearer {token}"
    assert client.get("/api/v1/organisations/me", headers=owner["headers"]).status_code == 200


def test_the_last_owner_cannot_leave_and_members_cannot_manage(
    app: Flask, client: FlaskClient, sessions: Any
):
    member_account(client)
    page = client.get("/account").get_data(as_text=True)
    assert "Leave the organisation" not in page, "the last owner is not offered to leave"
    (me,) = client.get("/api/v1/organisations/me/members").get_json()
    left = post_form(client, f"/account/members/{me['id']}/remove", "/account")
    assert "needs an owner" in client.get(left.headers["Location"]).get_data(as_text=True)
    email = f"{random_id('m')}@example.org"
    post_form(
        client,
        "/account/members",
        "/account",
        **{"invite-email": email, "invite-role": "member", "invite-language": "fr"},
    )
    member = app.test_client()
    path = link_path(mails(sessions, email)[0])
    post_form(member, path, path, name="Paul", language="fr", password=PASSWORD)
    refused = post_form(
        member,
        "/account/members",
        "/account",
        **{"invite-email": "x@example.org", "invite-role": "owner", "invite-language": "fr"},
    )
    assert refused.status_code == 403


def test_an_owner_exports_everything_as_json_and_csv_in_a_zip(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("NOTIFICATIONS_URL", raising=False)
    client = listings_app(postgres_url, RATE_LIMITS="off").test_client()
    organisation = member_account(client)
    client.post(
        "/api/v1/listings",
        json=listing_body(title="Chutes de chêne"),
        headers=organisation["headers"],
    )
    # Without the notifications service the export would be incomplete: it says so.
    unavailable = client.get("/account/export")
    assert unavailable.status_code == 302
    page = client.get(unavailable.headers["Location"]).get_data(as_text=True)
    assert "did not answer" in page


def test_deleting_the_organisation_withdraws_its_listings_and_erases_it(
    app: Flask, client: FlaskClient, sessions: Any
):
    organisation = member_account(client)
    organisation_id = organisation["organisation"]["id"]
    listing = client.post(
        "/api/v1/listings",
        json=listing_body(title="Palettes de Thionville"),
        headers=organisation["headers"],
    ).get_json()
    assert client.get(f"/api/v1/listings/{listing['id']}").get_json()["status"] == "published"
    before = client.get("/api/v1/listings?q=Thionville").get_json()
    assert listing["id"] in [hit["listing"]["id"] for hit in before["hits"]]
    wrong = post_form(client, "/account/delete", "/account", **{"delete-confirm": "not the name"})
    assert "exactly" in client.get(wrong.headers["Location"]).get_data(as_text=True)
    deleted = post_form(
        client,
        "/account/delete",
        "/account",
        **{"delete-confirm": organisation["organisation"]["name"]},
    )
    assert deleted.status_code == 302
    public = client.get(f"/api/v1/listings/{listing['id']}")
    assert public.status_code == 404 or public.get_json()["status"] == "withdrawn"
    found = client.get("/api/v1/listings?q=Thionville").get_json()
    assert all(hit["listing"]["id"] != listing["id"] for hit in found["hits"])
    assert log_in(app.test_client(), organisation["login"]["email"]).status_code == 200  # refused
    assert (
        client.get("/api/v1/organisations/me", headers=organisation["headers"]).status_code == 401
    )
    with unit_of_work(sessions) as session:
        rows = session.scalars(select(OutboxRow).order_by(OutboxRow.id)).all()
        mine = [row for row in rows if row.key in (organisation_id, listing["id"])]
        kinds = [(row.key, row.event_type, bool(row.payload)) for row in mine[-4:]]
        texts = json.dumps([row.payload.decode() for row in rows if row.payload][-20:])
    assert kinds == [
        (listing["id"], "boucle.listing.withdrawn", True),
        (listing["id"], "tombstone", False),
        (organisation_id, "boucle.organisation.deleted", True),
        (organisation_id, "tombstone", False),
    ]
    assert organisation["login"]["email"] not in texts.split("boucle.organisation.deleted")[-1]


def test_an_admins_moderation_is_on_the_audit_log(app: Flask, client: FlaskClient):
    owner = register(client)
    listing = client.post(
        "/api/v1/listings", json=listing_body(), headers=owner["headers"]
    ).get_json()
    admin_email = f"{random_id('admin')}@example.org"
    app.extensions["boucle.accounts"].make_admin(admin_email, PASSWORD)
    log_in(client, admin_email)
    page = f"/listings/{listing['id']}"
    post_form(client, f"/listings/{listing['id']}/action", page, action="withdraw")
    audit = client.get("/admin/audit").get_data(as_text=True)
    assert "listing_withdraw" in audit and listing["id"] in audit
    member = app.test_client()
    log_in(member, owner["login"]["email"])
    assert member.get("/admin/audit").status_code == 403


def _zip_names(data: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(data)).namelist()


def test_the_api_manages_the_profile_and_the_members_with_a_token(
    client: FlaskClient, sessions: Any
):
    organisation = register(client)
    token = organisation["headers"]
    profile = client.patch(
        "/api/v1/organisations/me/profile",
        json={"description": "Palettes et caisses", "website": "https://example.org"},
        headers=token,
    )
    assert profile.status_code == 200, profile.get_json()
    assert profile.get_json()["description"] == "Palettes et caisses"
    bad = client.patch("/api/v1/organisations/me/profile", json={"website": "nope"}, headers=token)
    assert bad.status_code == 400 and "website" in bad.get_json()["errors"]
    (me,) = client.get("/api/v1/organisations/me/members", headers=token).get_json()
    assert me["organisation_role"] == "owner" and me["email_verified"] is False
    email = f"{random_id('api')}@example.org"
    invited = client.post(
        "/api/v1/organisations/me/members", json={"email": email, "language": "fr"}, headers=token
    )
    assert invited.status_code == 202
    assert [m.kind for m in mails(sessions, email)] == ["invitation"]
    last_owner = client.delete(f"/api/v1/organisations/me/members/{me['id']}", headers=token)
    assert last_owner.status_code == 409 and "owner" in last_owner.get_json()["message"]
    for address in ("nobody@example.org", organisation["login"]["email"]):
        assert client.post("/api/v1/password/forgot", json={"email": address}).status_code == 202
    assert mails(sessions, "nobody@example.org") == []
    assert [m.kind for m in mails(sessions, organisation["login"]["email"])][-1] == "reset_password"
