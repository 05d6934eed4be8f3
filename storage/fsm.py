"""aiogram FSM storage in our database: a restart never loses a half-finished conversation."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.base import dialect_insert, utcnow
from storage.models import FsmRecord

_ABSENT: tuple[str | None, str] = (None, "{}")  # cached "no row"


class SQLStorage(BaseStorage):
    """One row per FSM key; each write commits at once (short transactions, no lock held).

    With `cache_size`, reads are served from a write-through in-process cache: right when one
    process owns the database (SQLite); several instances must not cache (pass 0)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        key_builder: KeyBuilder | None = None,
        *,
        cache_size: int = 0,
    ) -> None:
        self._sessions = sessions
        self._key_builder = key_builder or DefaultKeyBuilder()
        self._cache_size = cache_size
        self._cache: OrderedDict[str, tuple[str | None, str]] = OrderedDict()

    async def _upsert(self, key: StorageKey, **values: Any) -> None:
        built = self._key_builder.build(key)
        cached = self._cache.pop(built, None)
        async with self._sessions() as session:
            statement = dialect_insert(session)(FsmRecord).values(
                key=self._key_builder.build(key), updated_at=utcnow(), **values
            )
            statement = statement.on_conflict_do_update(
                index_elements=[FsmRecord.key],
                set_={**values, "updated_at": statement.excluded.updated_at},
            )
            await session.execute(statement)
            await session.commit()
        if cached is not None and self._cache_size:  # write-through: no re-read after a write
            state, data = (None, "{}") if cached == _ABSENT else cached
            self._cache[built] = (values.get("state", state), values.get("data", data))

    async def _row(self, key: StorageKey) -> tuple[str | None, str] | None:
        built = self._key_builder.build(key)
        if built in self._cache:
            self._cache.move_to_end(built)
            cached = self._cache[built]
            return None if cached == _ABSENT else cached
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(FsmRecord.state, FsmRecord.data).where(FsmRecord.key == built)
                )
            ).first()
        found = (row.state, row.data) if row else None
        if self._cache_size:
            self._cache[built] = found or _ABSENT
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return found

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._upsert(key, state=value)
        if value is None:
            await self._drop_if_empty(key)

    async def get_state(self, key: StorageKey) -> str | None:
        row = await self._row(key)
        return row[0] if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if not isinstance(data, dict):
            raise TypeError(f"FSM data must be a dict, not {type(data).__name__}")
        await self._upsert(key, data=json.dumps(data, ensure_ascii=False))
        if not data:
            await self._drop_if_empty(key)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        row = await self._row(key)
        return json.loads(row[1]) if row else {}

    async def _drop_if_empty(self, key: StorageKey) -> None:
        if self._cache.get(self._key_builder.build(key)) not in (None, _ABSENT, (None, "{}")):
            return  # write-through cache knows the row is not empty: nothing to delete
        self._cache.pop(self._key_builder.build(key), None)
        # A cleared conversation leaves no row behind (less data kept about a person).
        async with self._sessions() as session:
            await session.execute(
                delete(FsmRecord).where(
                    FsmRecord.key == self._key_builder.build(key),
                    FsmRecord.state.is_(None),
                    FsmRecord.data == "{}",
                )
            )
            await session.commit()

    async def close(self) -> None:
        """Sessions belong to the app's Database, which disposes of the engine."""
