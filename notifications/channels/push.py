"""Web Push (RFC 8030): an alert encrypted for one browser (RFC 8291, aes128gcm) and signed
with the exchange's VAPID key (RFC 8292), POSTed to the push service the browser chose.

The push service's address comes from the browser, so it is checked like a webhook's
(netguard: no private networks unless allowed, https outside development) and the POST
goes to the checked address.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from py_vapid import Vapid02
from pywebpush import WebPusher

from notifications.channels.netguard import ResolutionUnavailable, UnsafeUrl
from notifications.channels.webhook import WebhookSender
from notifications.retry import DeliveryError

#: How long a push service keeps an undelivered alert for a phone that is off (seconds).
TTL_S = 24 * 3600
#: The largest payload every push service accepts (RFC 8291: 4096 bytes including overhead).
MAX_PAYLOAD = 3000


@dataclass(frozen=True)
class VapidKeys:
    """The exchange's application server keys: VAPID_PRIVATE_KEY (PEM, or base64url of the
    raw 32-byte P-256 key or of its DER), VAPID_PUBLIC_KEY (base64url of the uncompressed
    point, what browsers take as applicationServerKey) and VAPID_SUBJECT (mailto: or https:
    contact)."""

    private_key: str
    public_key: str
    subject: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> VapidKeys | None:
        """The keys if all three are set, else None (push then stays off)."""
        private, public = env.get("VAPID_PRIVATE_KEY", ""), env.get("VAPID_PUBLIC_KEY", "")
        subject = env.get("VAPID_SUBJECT", "")
        if not (private and public and subject):
            return None
        return cls(private.strip(), public.strip(), subject.strip())


class SubscriptionGone(DeliveryError):
    """The push service no longer knows the subscription (404/410): the browser dropped it
    or the member revoked the permission; it will never work again."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, permanent=True)


class PushSender:
    """Encrypts, signs and POSTs one message; anything but 2xx is a DeliveryError."""

    def __init__(self, keys: VapidKeys, checker: WebhookSender) -> None:
        self._keys = keys
        private = keys.private_key
        self._vapid = (
            Vapid02.from_pem(private.encode())
            if private.startswith("-----BEGIN")
            else Vapid02.from_string(private)
        )
        self._checker = checker

    def send(self, endpoint: str, p256dh: str, auth: str, message: dict[str, Any]) -> None:
        try:
            target = self._checker.check(endpoint)
        except ResolutionUnavailable as exc:
            raise DeliveryError(f"push service unreachable: {exc}") from exc
        except UnsafeUrl as exc:
            raise DeliveryError(f"push service refused: {exc}", permanent=True) from exc
        data = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
        if len(data) > MAX_PAYLOAD:
            raise DeliveryError("push message too large", permanent=True)
        subscription = {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}}
        try:
            body = WebPusher(subscription).encode(data, "aes128gcm")["body"]
        except Exception as exc:  # keys a browser would never send
            raise DeliveryError(f"push subscription keys unusable: {exc}", permanent=True) from exc
        parts = urlsplit(endpoint)
        claims = {
            "aud": f"{parts.scheme}://{parts.netloc}",
            "exp": int(time.time()) + 12 * 3600,
            "sub": self._keys.subject,
        }
        headers = {
            **self._vapid.sign(claims),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(TTL_S),
            "Urgency": "normal",
            "Host": target.host if target.port in (80, 443) else f"{target.host}:{target.port}",
        }
        status, snippet = self._checker.post(target, headers, body)
        if status in (404, 410):
            raise SubscriptionGone(f"HTTP {status} from push service: {snippet}")
        if not 200 <= status < 300:
            raise DeliveryError(f"HTTP {status} from push service: {snippet}")
