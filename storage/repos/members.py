"""Members and their roles."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from members.dto import MemberDTO
from members.roles import Role
from storage.base import rowcount
from storage.hot import Lane, Query, Statement
from storage.models_members import Member, MemberRole


def to_dto(member: Member) -> MemberDTO:
    return MemberDTO(
        id=member.id,
        employee_id=member.employee_id,
        name=member.name,
        department=member.department,
        telegram_id=member.telegram_id,
        locale=member.locale,
        roles=frozenset(Role(r.role) for r in member.roles),
        registered_at=member.registered_at,
        consent_version=member.consent_version,
    )


# Runs on every update: one query with the roles joined in.
_BY_TELEGRAM_ID = Statement(
    lambda _dialect: (
        select(
            Member.id,
            Member.employee_id,
            Member.name,
            Member.department,
            Member.telegram_id,
            Member.locale,
            Member.registered_at,
            Member.consent_version,
            MemberRole.role,
        )
        .outerjoin(MemberRole, MemberRole.member_id == Member.id)
        .where(Member.telegram_id == bindparam("telegram_id"))
    )
)


class MemberRepository:
    def __init__(self, session: AsyncSession, lane: Lane | None = None) -> None:
        self._session = session
        self._lane = lane or Lane(session)

    async def get(self, member_id: int) -> MemberDTO | None:
        member = await self._session.get(Member, member_id)
        return to_dto(member) if member else None

    async def get_by_telegram_id(self, telegram_id: int) -> MemberDTO | None:
        # Cached per process on a SQLite file until anything else commits (storage/hot.py).
        [rows] = await self._lane.fetch(
            Query(_BY_TELEGRAM_ID, {"telegram_id": telegram_id}, ("member", telegram_id))
        )
        if not rows:
            return None
        first = rows[0]
        return MemberDTO(
            id=first[0],
            employee_id=first[1],
            name=first[2],
            department=first[3],
            telegram_id=first[4],
            locale=first[5],
            roles=frozenset(Role(r[8]) for r in rows if r[8] is not None),
            registered_at=first[6],
            consent_version=first[7],
        )

    async def get_by_employee_id(self, employee_id: str) -> MemberDTO | None:
        member = await self._session.scalar(select(Member).where(Member.employee_id == employee_id))
        return to_dto(member) if member else None

    async def list_all(self) -> list[MemberDTO]:
        members = await self._session.scalars(
            select(Member).order_by(Member.department, Member.employee_id)
        )
        return [to_dto(m) for m in members]

    async def list_unlinked(self) -> list[MemberDTO]:
        """Roster rows no Telegram account is linked to yet."""
        members = await self._session.scalars(
            select(Member)
            .where(Member.telegram_id.is_(None))
            .order_by(Member.department, Member.employee_id)
        )
        return [to_dto(m) for m in members]

    async def departments(self) -> list[str]:
        rows = await self._session.scalars(
            select(Member.department).where(Member.department != "").distinct()
        )
        return sorted(rows)

    async def roles_held(self) -> list[Role]:
        """Roles at least one member holds, in the enum's order."""
        held = set(await self._session.scalars(select(MemberRole.role).distinct()))
        return [role for role in Role if role.value in held]

    async def upsert(
        self, employee_id: str, name: str, department: str, roles: Iterable[Role] | None
    ) -> bool:
        """Insert or update one roster entry; roles=None keeps existing roles. True if new."""
        member = await self._session.scalar(select(Member).where(Member.employee_id == employee_id))
        created = member is None
        if member is None:
            member = Member(employee_id=employee_id, name=name, department=department, roles=[])
            self._session.add(member)
            roles = roles if roles is not None else [Role.MEMBER]
        else:
            member.name, member.department = name, department
        if roles is not None:
            self._replace_roles(member, roles)
        await self._session.flush()
        return created

    async def set_roles(self, member_id: int, roles: Iterable[Role]) -> MemberDTO:
        member = await self._session.get_one(Member, member_id)
        self._replace_roles(member, roles)
        await self._session.flush()
        return to_dto(member)

    @staticmethod
    def _replace_roles(member: Member, roles: Iterable[Role]) -> None:
        wanted = {Role(r) for r in roles}
        member.roles[:] = [r for r in member.roles if Role(r.role) in wanted]
        present = {Role(r.role) for r in member.roles}
        member.roles.extend(MemberRole(role=role.value) for role in sorted(wanted - present))

    async def link_telegram(
        self,
        member_id: int,
        telegram_id: int,
        *,
        locale: str | None,
        consent_version: int,
        now: datetime,
    ) -> bool:
        """Link only if the member is not linked to another account yet. True on success."""
        result = await self._session.execute(
            update(Member)
            .where(Member.id == member_id, Member.telegram_id.is_(None))
            .values(
                telegram_id=telegram_id,
                locale=locale,
                consent_version=consent_version,
                consented_at=now,
                registered_at=now,
                updated_at=now,
            )
        )
        return rowcount(result) == 1

    async def record_consent(self, member_id: int, version: int, now: datetime) -> None:
        await self._session.execute(
            update(Member)
            .where(Member.id == member_id)
            .values(consent_version=version, consented_at=now)
        )

    async def set_locale(self, member_id: int, locale: str) -> None:
        await self._session.execute(
            update(Member).where(Member.id == member_id).values(locale=locale)
        )

    async def linked_with_roles(self, roles: Iterable[Role]) -> list[MemberDTO]:
        """Registered members holding any of the roles (e.g. who to ask for an approval)."""
        members = await self._session.scalars(
            select(Member)
            .join(MemberRole)
            .where(MemberRole.role.in_([r.value for r in roles]), Member.telegram_id.is_not(None))
            .distinct()
            .order_by(Member.id)
        )
        return [to_dto(m) for m in members]

    async def readers(self, roles: Iterable[Role], telegram_ids: Iterable[int]) -> list[MemberDTO]:
        """Who reads a mailbox: registered members holding any of its roles, then those it
        names by Telegram id (each once)."""
        found = {m.id: m for m in await self.linked_with_roles(roles)}
        for telegram_id in telegram_ids:
            member = await self.get_by_telegram_id(telegram_id)
            if member is not None:
                found.setdefault(member.id, member)
        return list(found.values())

    async def delete_all_roles(self, member_id: int) -> None:
        await self._session.execute(delete(MemberRole).where(MemberRole.member_id == member_id))

    async def set_reachable(self, telegram_id: int, reachable: bool, now: datetime) -> None:
        """Telegram told us (my_chat_member) whether the person blocked or unblocked the bot."""
        await self._session.execute(
            update(Member)
            .where(Member.telegram_id == telegram_id)
            .values(unreachable_since=None if reachable else now)
        )
