"""Registration requests (awaiting an officer) and one-time invite codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from members.dto import PENDING, RegistrationRequestDTO
from storage.base import rowcount
from storage.models import InviteCode, RegistrationRequest


def _to_dto(request: RegistrationRequest) -> RegistrationRequestDTO:
    return RegistrationRequestDTO(
        id=request.id,
        telegram_id=request.telegram_id,
        employee_id=request.employee_id,
        name=request.name,
        locale=request.locale,
        status=request.status,
        created_at=request.created_at,
    )


class RegistrationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create(
        self,
        telegram_id: int,
        employee_id: str,
        name: str,
        locale: str | None,
        consent_version: int,
        now: datetime | None = None,
    ) -> RegistrationRequestDTO:
        request = RegistrationRequest(
            **({"created_at": now} if now is not None else {}),
            telegram_id=telegram_id,
            employee_id=employee_id,
            name=name,
            locale=locale,
            consent_version=consent_version,
            status=PENDING,
        )
        self._session.add(request)
        await self._session.flush()
        return _to_dto(request)

    async def get(self, request_id: int) -> RegistrationRequestDTO | None:
        request = await self._session.get(RegistrationRequest, request_id)
        return _to_dto(request) if request else None

    async def pending_for(self, telegram_id: int) -> RegistrationRequestDTO | None:
        request = await self._session.scalar(
            select(RegistrationRequest).where(
                RegistrationRequest.telegram_id == telegram_id,
                RegistrationRequest.status == PENDING,
            )
        )
        return _to_dto(request) if request else None

    async def count_since(self, telegram_id: int, since: datetime) -> tuple[int, datetime | None]:
        """Requests one account filed since then, and the oldest one's time."""
        count, oldest = (
            await self._session.execute(
                select(func.count(), func.min(RegistrationRequest.created_at)).where(
                    RegistrationRequest.telegram_id == telegram_id,
                    RegistrationRequest.created_at >= since,
                )
            )
        ).one()
        return int(count), oldest

    async def list_pending(self) -> list[RegistrationRequestDTO]:
        requests = await self._session.scalars(
            select(RegistrationRequest)
            .where(RegistrationRequest.status == PENDING)
            .order_by(RegistrationRequest.id)
        )
        return [_to_dto(r) for r in requests]

    async def decide(
        self, request_id: int, status: str, decided_by: int | None, now: datetime
    ) -> bool:
        """Move a pending request to approved/rejected; False if someone decided first."""
        result = await self._session.execute(
            update(RegistrationRequest)
            .where(RegistrationRequest.id == request_id, RegistrationRequest.status == PENDING)
            .values(status=status, decided_by_member_id=decided_by, decided_at=now)
        )
        return rowcount(result) == 1


class InviteRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create(self, member_id: int, code_hash: str, expires_at: datetime) -> None:
        self._session.add(
            InviteCode(member_id=member_id, code_hash=code_hash, expires_at=expires_at)
        )
        await self._session.flush()

    async def redeem(self, code_hash: str, now: datetime) -> int | None:
        """Use a valid, unused code once; returns its member id, or None."""
        result = await self._session.execute(
            update(InviteCode)
            .where(
                InviteCode.code_hash == code_hash,
                InviteCode.used_at.is_(None),
                InviteCode.expires_at > now,
            )
            .values(used_at=now)
            .returning(InviteCode.member_id)
        )
        return result.scalar_one_or_none()
