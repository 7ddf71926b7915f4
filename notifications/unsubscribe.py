"""Signed unsubscribe links: they turn e-mail off for one recipient, without a login."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "boucle.notifications.unsubscribe"


class UnsubscribeTokens:
    """Tokens naming (organisation, member); member "" is the organisation's contact address."""

    def __init__(self, secret_key: str) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt=SALT)

    def make(self, organisation_id: str, member_id: str) -> str:
        """A token for the recipient (it never expires: old e-mails must keep working)."""
        return str(self._serializer.dumps([organisation_id, member_id]))

    def read(self, token: str) -> tuple[str, str] | None:
        """(organisation id, member id), or None for a token that was not signed by us."""
        try:
            value = self._serializer.loads(token)
        except BadSignature:
            return None
        if not (
            isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)
        ):
            return None
        return value[0], value[1]
