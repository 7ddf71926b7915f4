"""Transient or permanent: would the same work succeed if tried again a little later?

A transient fault is the surroundings failing (database unreachable, broker away, a
timeout, a mail server's 4xx, a DNS lookup that could not be made): the consumer keeps the
message, backs off and tries it again until the dependency is back, never dead-lettering
it. Anything else would fail again on the same input and ends in a dead letter.
"""

from __future__ import annotations

import errno
import random
import smtplib
import socket

from kafka.errors import KafkaError, KafkaTimeoutError
from sqlalchemy import exc as sa_exc

#: errno values of a network that is (for now) not there.
_NETWORK_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.ECONNABORTED,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.ETIMEDOUT,
    errno.EPIPE,
}


class TransientError(Exception):
    """Raised by our own code for a fault of the surroundings that will pass."""


def is_transient(error: BaseException) -> bool:
    """True when `error`, or one it was raised from, is a fault of the surroundings."""
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 8:
        if _is_transient_itself(current):
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


def _is_transient_itself(error: BaseException) -> bool:
    if isinstance(error, TransientError | TimeoutError | ConnectionError):
        return True
    if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
        return True  # connection lost, server shutting down, too many clients...
    if isinstance(error, sa_exc.DisconnectionError | sa_exc.TimeoutError):
        return True
    if isinstance(error, KafkaError):
        # Retriable errors (no leader, connection lost, ...) and a broker not answering.
        return bool(getattr(error, "retriable", False)) or isinstance(error, KafkaTimeoutError)
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    if isinstance(error, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError):
        return True
    if isinstance(error, socket.gaierror):
        return error.errno == socket.EAI_AGAIN
    return isinstance(error, OSError) and error.errno in _NETWORK_ERRNOS


def backoff_s(attempt: int, base_s: float = 0.5, cap_s: float = 30.0) -> float:
    """How long to wait before attempt `attempt` + 1: exponential, capped, half of it jitter.

    Jitter keeps a group of consumers from hammering a recovering database in step.
    """
    ceiling = min(cap_s, base_s * 2 ** max(0, attempt - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)
