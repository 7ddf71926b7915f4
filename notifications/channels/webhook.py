"""Webhook deliveries signed the Standard Webhooks way, sent only to checked addresses."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import urllib3
from standardwebhooks.webhooks import Webhook
from urllib3.exceptions import HTTPError

from notifications.channels.netguard import (
    ResolutionUnavailable,
    Resolver,
    Target,
    UnsafeUrl,
    check_url,
    resolve,
)
from notifications.retry import DeliveryError

log = logging.getLogger(__name__)
#: How much of a receiver's answer is read (for the error message only, never trusted).
RESPONSE_LIMIT = 1024
USER_AGENT = "Boucle-Webhooks/1.0"


@dataclass(frozen=True)
class WebhookPolicy:
    """Where and how long the notifier may call: see docs/webhooks.md."""

    allow_private: bool = False
    require_https: bool = True
    connect_timeout_s: float = 3.0
    read_timeout_s: float = 5.0


def signed_headers(secret: str, message_id: str, sent_at: datetime, body: str) -> dict[str, str]:
    """The three Standard Webhooks headers for one message."""
    signature = Webhook(secret).sign(message_id, sent_at, body)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
    }


def payload(event_type: str, sent_at: datetime, data: dict[str, Any]) -> str:
    """The JSON body: `{type, timestamp, data}` as the Standard Webhooks spec suggests."""
    document = {"type": event_type, "timestamp": sent_at.isoformat(), "data": data}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False, default=str)


class WebhookSender:
    """POSTs a signed body to an endpoint; any answer but 2xx is a failure."""

    def __init__(self, policy: WebhookPolicy, resolver: Resolver = resolve) -> None:
        self._policy = policy
        self._resolver = resolver

    def check(self, url: str) -> Target:
        """The URL's target if the policy allows calling it; UnsafeUrl otherwise."""
        return check_url(
            url,
            allow_private=self._policy.allow_private,
            require_https=self._policy.require_https,
            resolver=self._resolver,
        )

    def send(self, url: str, secret: str, message_id: str, sent_at: datetime, body: str) -> None:
        """Deliver once; raise DeliveryError with the reason when it did not succeed."""
        try:
            target = self.check(url)
        except ResolutionUnavailable as exc:
            # The resolver failed, not the endpoint: retried with backoff like a refused connection.
            raise DeliveryError(f"endpoint unreachable: {exc}") from exc
        except UnsafeUrl as exc:
            raise DeliveryError(f"endpoint refused: {exc}", permanent=True) from exc
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Host": target.host if target.port in (80, 443) else f"{target.host}:{target.port}",
            **signed_headers(secret, message_id, sent_at, body),
        }
        status, snippet = self._post(target, headers, body.encode())
        if not 200 <= status < 300:
            # 410 Gone: the receiver says it will never want this again.
            raise DeliveryError(f"HTTP {status} from receiver: {snippet}", permanent=status == 410)

    def post(self, target: Target, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        """POST to a checked target's address (also the push channel's way out)."""
        return self._post(target, headers, body)

    def _post(self, target: Target, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        pool = self._pool(target)
        try:
            response = pool.urlopen(
                "POST",
                target.path,
                body=body,
                headers=headers,
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
            try:
                raw = response.read(RESPONSE_LIMIT, decode_content=False)
            finally:
                response.close()
            return response.status, _printable(raw)
        except HTTPError as exc:
            raise DeliveryError(f"could not reach receiver: {type(exc).__name__}") from exc
        finally:
            pool.close()

    def _pool(self, target: Target) -> urllib3.HTTPConnectionPool:
        timeout = urllib3.Timeout(
            connect=self._policy.connect_timeout_s, read=self._policy.read_timeout_s
        )
        if target.scheme == "https":
            # Connect to the checked address, but verify the certificate for the host name.
            return urllib3.HTTPSConnectionPool(
                target.address,
                target.port,
                timeout=timeout,
                maxsize=1,
                retries=False,
                server_hostname=target.host,
                assert_hostname=target.host,
                cert_reqs="CERT_REQUIRED",
            )
        return urllib3.HTTPConnectionPool(
            target.address, target.port, timeout=timeout, maxsize=1, retries=False
        )


def _printable(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace")[:200]
    return "".join(c if c.isprintable() else " " for c in text).strip()
