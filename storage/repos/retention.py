"""Purging what has been kept long enough. Each method counts (dry run) or deletes, and says
how many rows; never what they held."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.base import rowcount
from storage.models import (
    FsmRecord,
    OutboxMedia,
    OutboxMessage,
    ProcessedUpdate,
    Survey,
    SurveyAnswer,
)
from storage.models_mailbox import Letter

FINISHED_OUTBOX = ("sent", "unreachable", "failed", "batched")


class RetentionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _apply(self, model: Any, where: Any, dry_run: bool, **values: Any) -> int:
        if dry_run:
            return int(
                await self._session.scalar(select(func.count()).select_from(model).where(where))
                or 0
            )
        statement = update(model).values(**values) if values else delete(model)
        result = await self._session.execute(statement.where(where))
        return rowcount(result)

    async def handled_letters(self, before: datetime, dry_run: bool) -> int:
        """Handled letters, with their threads, files and audit (cascade)."""
        where = (Letter.status == "handled") & (Letter.handled_at < before)
        return await self._apply(Letter, where, dry_run)

    async def outbox(self, before: datetime, dry_run: bool) -> int:
        where = OutboxMessage.status.in_(FINISHED_OUTBOX) & (OutboxMessage.created_at < before)
        count = await self._apply(OutboxMessage, where, dry_run)
        if not dry_run:
            used = select(OutboxMessage.media_id).where(OutboxMessage.media_id.is_not(None))
            await self._session.execute(delete(OutboxMedia).where(OutboxMedia.id.not_in(used)))
        return count

    async def processed_updates(self, before: datetime, dry_run: bool) -> int:
        # Keep the newest: it tells a restarted bot which updates it has seen.
        newest = select(func.max(ProcessedUpdate.update_id)).scalar_subquery()
        where = (ProcessedUpdate.processed_at < before) & (ProcessedUpdate.update_id != newest)
        return await self._apply(ProcessedUpdate, where, dry_run)

    async def survey_free_text(self, closed_before: datetime, dry_run: bool) -> int:
        """Raw free-text answers of surveys closed before the cutoff (choices stay)."""
        closed = select(Survey.id).where(
            Survey.status == "closed", Survey.closed_at < closed_before
        )
        where = SurveyAnswer.survey_id.in_(closed) & SurveyAnswer.text.is_not(None)
        return await self._apply(SurveyAnswer, where, dry_run, text=None)

    async def conversations(self, before: datetime, dry_run: bool) -> int:
        """Dialogues abandoned half-way long ago."""
        return await self._apply(FsmRecord, FsmRecord.updated_at < before, dry_run)
