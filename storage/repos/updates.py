"""Processed Telegram update ids (idempotency of redelivered updates)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.base import dialect_insert, rowcount, utcnow
from storage.models_members import ProcessedUpdate


class ProcessedUpdateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def mark(self, update_id: int) -> bool:
        """Record the update id; False if it was already recorded (a duplicate)."""
        insert = dialect_insert(self._session)
        statement = (
            insert(ProcessedUpdate)
            .values(update_id=update_id, processed_at=utcnow())
            .on_conflict_do_nothing(index_elements=[ProcessedUpdate.update_id])
        )
        result = await self._session.execute(statement)
        return rowcount(result) == 1

    async def seen(self, update_id: int) -> bool:
        return (await self._session.get(ProcessedUpdate, update_id)) is not None

    async def highest(self) -> int:
        return await self._session.scalar(select(func.max(ProcessedUpdate.update_id))) or 0
