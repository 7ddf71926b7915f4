"""REST API for an organisation's profile, members, data export and deletion, and passwords.

The same use cases as the account pages (listings/membership.py, listings/leaving.py). The
caller acts as a member: its login, or the member who created its API token.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Response, current_app
from flask.views import MethodView

from listings import api_examples as ex
from listings import api_schemas as s
from listings.auth import require_principal
from listings.errors import Forbidden
from listings.leaving import OrganisationData
from listings.limits import LOGINS_PER_ADDRESS, limiter
from listings.membership import Membership
from shared.auth import Principal
from shared.openapi import ApiBlueprint

blp = ApiBlueprint(
    "people_api", __name__, url_prefix="/api/v1", description="Profile, members and your data"
)


def _membership() -> Membership:
    found: Membership = current_app.extensions["boucle.membership"]
    return found


def _actor() -> tuple[Principal, str]:
    principal = require_principal()
    if not principal.user_id:
        raise Forbidden("this token was created before members existed: use a member's token")
    return principal, principal.user_id


@blp.route("/organisations/me/profile")
class Profile(MethodView):
    @blp.token(403, 404, 409)
    @blp.arguments(s.ProfileIn, example=ex.PROFILE_IN)
    @blp.response(200, s.OrganisationOut, example=ex.PROFILE_OUT)
    def patch(self, changes: dict[str, Any]) -> Any:
        """Change the organisation's profile (owners); every service learns it by event."""
        principal, actor = _actor()
        return _membership().update_profile(principal.organisation_id, actor, changes)


@blp.route("/organisations/me/members")
class Members(MethodView):
    @blp.token(403, 404, 409)
    @blp.response(200, s.MemberOut(many=True), example=ex.MEMBERS_OUT)
    def get(self) -> Any:
        """Everyone who logs in for the organisation, with their role."""
        return _membership().members(require_principal().organisation_id)

    @blp.token(403, 404, 409)
    @blp.arguments(s.InviteIn, example=ex.INVITE_IN)
    @blp.response(202)
    def post(self, invite: dict[str, Any]) -> None:
        """Invite a colleague by e-mail (owners): the link in it lets them join, once."""
        principal, actor = _actor()
        _membership().invite(
            principal.organisation_id, actor, invite["email"], invite["role"], invite["language"]
        )


@blp.route("/organisations/me/members/<member_id>")
class MemberById(MethodView):
    @blp.token(403, 404, 409)
    @blp.arguments(s.RoleIn, example=ex.ROLE_IN)
    @blp.response(204)
    def patch(self, body: dict[str, Any], member_id: str) -> None:
        """Make a member an owner or a member (owners; an owner always remains)."""
        principal, actor = _actor()
        _membership().set_role(principal.organisation_id, actor, member_id, body["role"])

    @blp.token(403, 404, 409)
    @blp.response(204)
    def delete(self, member_id: str) -> None:
        """Remove a member (owners, or yourself): their logins and tokens stop at once."""
        principal, actor = _actor()
        _membership().remove(principal.organisation_id, actor, member_id)


@blp.route("/organisations/me/export")
class Export(MethodView):
    @blp.token(403, 404, 409)
    @blp.response(200, content_type="application/zip")
    def get(self) -> Response:
        """Everything Boucle holds about the organisation: JSON and CSV in a zip (owners)."""
        principal, actor = _actor()
        if not _membership().is_owner(principal.organisation_id, actor):
            raise Forbidden("only an owner may export the organisation's data")
        fetch = current_app.extensions["boucle.notifications_export"]
        data: OrganisationData = current_app.extensions["boucle.organisation_data"]
        archive = data.export(principal.organisation_id, fetch(principal))
        stamp = datetime.now(UTC).strftime("%Y-%m-%d")
        return Response(
            archive,
            mimetype="application/zip",
            headers={"Content-Disposition": f'attachment; filename="boucle-export-{stamp}.zip"'},
        )


@blp.route("/organisations/me")
class Leave(MethodView):
    @blp.token(403, 404, 409)
    @blp.response(204)
    def delete(self) -> None:
        """Delete the organisation (owners): listings withdrawn, personal data erased."""
        principal, actor = _actor()
        data: OrganisationData = current_app.extensions["boucle.organisation_data"]
        data.delete(principal.organisation_id, actor, principal.organisation_id)


@blp.route("/password/forgot")
class ForgotPassword(MethodView):
    decorators = [limiter.limit(LOGINS_PER_ADDRESS, methods=["POST"])]  # noqa: RUF012

    @blp.public()
    @blp.arguments(s.ForgotIn, example=ex.FORGOT_IN)
    @blp.response(202)
    def post(self, body: dict[str, Any]) -> None:
        """E-mail a reset link if the address has an account; the answer is the same if not."""
        _membership().forgot_password(body["email"])
