"""Unit tests are pure: any attempt to open a socket or resolve a name fails the test loudly."""

from __future__ import annotations

import socket

import pytest


class NetworkAccessError(RuntimeError):
    """Raised when a unit test tries to reach the network."""


class _GuardedSocket(socket.socket):
    """A socket class that cannot be instantiated (a subclass, so isinstance/subclassing still work)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise NetworkAccessError(f"unit tests must not use the network: socket.socket{args!r}")


def _refuse(name: str):  # type: ignore[no-untyped-def]
    def refuse(*args: object, **kwargs: object) -> None:
        raise NetworkAccessError(f"unit tests must not use the network: socket.{name}{args!r}")

    return refuse


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "socket", _GuardedSocket)
    for name in ("create_connection", "getaddrinfo", "gethostbyname", "gethostbyname_ex"):
        monkeypatch.setattr(socket, name, _refuse(name))
