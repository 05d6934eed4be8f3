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
from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.base import insert_for, utcnow
from storage.hot import Channel, Query, Statement, Write
from storage.models import FsmRecord

_ABSENT: tuple[str | None, str] = (None, "{}")  # cached "no row"


def _upsert(column: str) -> Statement:
    def build(dialect: str) -> Any:
        # A new row gets both columns; an existing one only the column being written.
        statement = insert_for(dialect)(FsmRecord).values(
            key=bindparam("key"),
            state=bindparam("state"),
            data=bindparam("data"),
            updated_at=bindparam("updated_at"),
        )
        return statement.on_conflict_do_update(
            index_elements=[FsmRecord.key],
            set_={column: statement.excluded[column], "updated_at": statement.excluded.updated_at},
        )

    return Statement(build)


_UPSERT = {"state": _upsert("state"), "data": _upsert("data")}
_ROW = Statement(
    lambda _d: select(FsmRecord.state, FsmRecord.data).where(FsmRecord.key == bindparam("key"))
)
# A cleared conversation leaves no row behind (less data kept about a person).
_DROP_IF_EMPTY = Statement(
    lambda _d: delete(FsmRecord).where(
        FsmRecord.key == bindparam("key"), FsmRecord.state.is_(None), FsmRecord.data == "{}"
    )
)


class SQLStorage(BaseStorage):
    """One row per FSM key; each write commits at once (short transactions, no lock held).

    With `cache_size`, reads are served from a write-through in-process cache: right when one
    process owns the database (SQLite); several instances must not cache (pass 0). With the
    database's `channel` (a SQLite file) every read and write is one hop on it."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        key_builder: KeyBuilder | None = None,
        *,
        cache_size: int = 0,
        channel: Channel | None = None,
    ) -> None:
        self._sessions = sessions
        self._channel = channel
        self._key_builder = key_builder or DefaultKeyBuilder()
        self._cache_size = cache_size
        self._cache: OrderedDict[str, tuple[str | None, str]] = OrderedDict()

    async def _run(self, statement: Statement, **params: Any) -> None:
        if self._channel is not None:
            await self._channel.write([Write(statement, params)])
            return
        async with self._sessions() as session:
            await statement.change_via(session, params)
            await session.commit()

    async def _upsert(self, key: StorageKey, **values: Any) -> None:
        built = self._key_builder.build(key)
        cached = self._cache.pop(built, None)
        [(column, value)] = values.items()
        row = {"state": None, "data": "{}", column: value}
        await self._run(_UPSERT[column], key=built, updated_at=utcnow(), **row)
        if cached is not None and self._cache_size:  # write-through: no re-read after a write
            state, data = (None, "{}") if cached == _ABSENT else cached
            self._cache[built] = (values.get("state", state), values.get("data", data))

    async def _row(self, key: StorageKey) -> tuple[str | None, str] | None:
        built = self._key_builder.build(key)
        if built in self._cache:
            self._cache.move_to_end(built)
            cached = self._cache[built]
            return None if cached == _ABSENT else cached
        if self._channel is not None:
            [rows] = await self._channel.read([Query(_ROW, {"key": built})])
        else:
            async with self._sessions() as session:
                rows = await _ROW.rows_via(session, {"key": built})
        found = (rows[0][0], rows[0][1]) if rows else None
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
        built = self._key_builder.build(key)
        self._cache.pop(built, None)
        await self._run(_DROP_IF_EMPTY, key=built)

    async def close(self) -> None:
        """Sessions belong to the app's Database, which disposes of the engine."""
