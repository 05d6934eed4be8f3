"""The append-only audit of role changes: rows are added and read, never changed or removed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from members.dto import RoleChangeRow
from storage.models import Member, RoleChange


class RoleAuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(
        self,
        *,
        changed_at: datetime,
        actor_kind: str,
        actor_member_id: int | None,
        actor_telegram_id: int | None,
        member_id: int,
        role: str,
        change: str,
    ) -> int:
        row = RoleChange(
            changed_at=changed_at,
            actor_kind=actor_kind,
            actor_member_id=actor_member_id,
            actor_telegram_id=actor_telegram_id,
            member_id=member_id,
            role=role,
            change=change,
        )
        self._session.add(row)
        await self._session.flush()
        return row.id

    async def list_all(self) -> list[RoleChangeRow]:
        actor, target = aliased(Member), aliased(Member)
        rows = await self._session.execute(
            select(
                RoleChange,
                actor.employee_id,
                actor.name,
                target.employee_id,
                target.name,
            )
            .outerjoin(actor, actor.id == RoleChange.actor_member_id)
            .outerjoin(target, target.id == RoleChange.member_id)
            .order_by(RoleChange.id)
        )
        return [
            RoleChangeRow(
                id=change.id,
                changed_at=change.changed_at,
                actor_kind=change.actor_kind,
                actor_telegram_id=change.actor_telegram_id,
                actor_employee_id=actor_employee_id,
                actor_name=actor_name,
                employee_id=employee_id,
                name=name,
                role=change.role,
                change=change.change,
            )
            for change, actor_employee_id, actor_name, employee_id, name in rows
        ]
