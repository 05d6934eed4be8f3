"""Ports shared by every feature (see docs/architecture.md)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol, TypeVar

Repos_co = TypeVar("Repos_co", covariant=True)


class UnitOfWorkFactory(Protocol[Repos_co]):
    """Opens units of work for services that run their own transactions (the outbox sender,
    the shared send budget). storage.database.Database is the implementation: the unit is
    rolled back unless the service commits it."""

    def unit_of_work(self) -> AbstractAsyncContextManager[Repos_co]: ...
