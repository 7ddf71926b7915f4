"""Which failures a consumer waits out (the surroundings) and which end in a dead letter."""

from __future__ import annotations

import errno
import smtplib
import socket

import pytest
from kafka.errors import KafkaConnectionError, KafkaTimeoutError, UnknownTopicOrPartitionError
from sqlalchemy.exc import IntegrityError, OperationalError

from shared.faults import TransientError, backoff_s, is_transient


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("SELECT 1", {}, ConnectionRefusedError("server closed the connection")),
        KafkaTimeoutError("metadata not available"),
        KafkaConnectionError("111 ECONNREFUSED"),
        UnknownTopicOrPartitionError(),
        TimeoutError("read timed out"),
        ConnectionResetError(errno.ECONNRESET, "reset by peer"),
        smtplib.SMTPResponseException(451, b"4.3.0 try again later"),
        smtplib.SMTPServerDisconnected("gone"),
        socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"),
        TransientError("our own"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_faults_of_the_surroundings_are_waited_out(error: BaseException) -> None:
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        KeyError("unit"),
        ValueError("bad quantity"),
        IntegrityError("INSERT", {}, Exception("duplicate key")),
        smtplib.SMTPResponseException(550, b"5.1.1 no such user"),
        socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
        RecursionError(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_failures_that_would_repeat_on_the_same_input_are_not(error: BaseException) -> None:
    assert not is_transient(error)


def test_a_fault_wrapped_in_another_exception_is_still_recognised() -> None:
    try:
        try:
            raise ConnectionRefusedError("database away")
        except ConnectionRefusedError as cause:
            raise RuntimeError("could not load the audience") from cause
    except RuntimeError as wrapped:
        assert is_transient(wrapped)


def test_backoff_doubles_up_to_its_cap_with_jitter() -> None:
    waits = [backoff_s(attempt, base_s=1.0, cap_s=8.0) for attempt in range(1, 8)]
    assert 0.5 <= waits[0] <= 1.0
    assert 2.0 <= waits[2] <= 4.0
    assert all(4.0 <= w <= 8.0 for w in waits[4:])
