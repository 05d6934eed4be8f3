"""What the member services need from storage (storage/repos implements it; see
docs/architecture.md). `MemberLookup` is the read side other features use too."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from members.dto import MemberDTO, RegistrationRequestDTO, RoleChangeRow
from members.roles import Role
from outbox.ports import OutboxWriter


class MemberLookup(Protocol):
    async def get(self, member_id: int) -> MemberDTO | None: ...
    async def get_by_employee_id(self, employee_id: str) -> MemberDTO | None: ...
    async def get_by_telegram_id(self, telegram_id: int) -> MemberDTO | None: ...
    async def readers(
        self, roles: Iterable[Role], telegram_ids: Iterable[int]
    ) -> list[MemberDTO]: ...
    async def departments(self) -> list[str]: ...
    async def roles_held(self) -> list[Role]: ...
    async def linked_with_roles(self, roles: Iterable[Role]) -> list[MemberDTO]: ...


class MemberStore(MemberLookup, Protocol):
    async def link_telegram(
        self,
        member_id: int,
        telegram_id: int,
        *,
        locale: str | None,
        consent_version: int,
        now: datetime,
    ) -> bool: ...
    async def list_all(self) -> list[MemberDTO]: ...
    async def list_unlinked(self) -> list[MemberDTO]: ...
    async def set_locale(self, member_id: int, locale: str) -> None: ...
    async def set_reachable(self, telegram_id: int, reachable: bool, now: datetime) -> None: ...
    async def set_roles(self, member_id: int, roles: Iterable[Role]) -> MemberDTO: ...
    async def upsert(
        self, employee_id: str, name: str, department: str, roles: Iterable[Role] | None
    ) -> bool: ...


class RegistrationStore(Protocol):
    async def count_since(
        self, telegram_id: int, since: datetime
    ) -> tuple[int, datetime | None]: ...
    async def create(
        self,
        telegram_id: int,
        employee_id: str,
        name: str,
        locale: str | None,
        consent_version: int,
        now: datetime | None = None,
    ) -> RegistrationRequestDTO: ...
    async def decide(
        self, request_id: int, status: str, decided_by: int | None, now: datetime
    ) -> bool: ...
    async def get(self, request_id: int) -> RegistrationRequestDTO | None: ...
    async def list_pending(self) -> list[RegistrationRequestDTO]: ...
    async def pending_for(self, telegram_id: int) -> RegistrationRequestDTO | None: ...


class InviteStore(Protocol):
    async def create(self, member_id: int, code_hash: str, expires_at: datetime) -> None: ...
    async def redeem(self, code_hash: str, now: datetime) -> int | None: ...


class RoleAuditStore(Protocol):
    async def list_all(self) -> list[RoleChangeRow]: ...
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
    ) -> int: ...


class Departments(Protocol):
    async def departments(self) -> list[tuple[str, int]]:
        """(department, how many handlers it has), for choosing where work goes."""
        ...


class DepartmentDirectory(Departments, Protocol):
    """Departments and their people, for picking a member (members/picker.py)."""

    async def members_in(self, department: str) -> list[tuple[int, str, str]]: ...


class MemberRepos(Protocol):
    """The unit of work MemberService runs in."""

    @property
    def members(self) -> MemberStore: ...
    @property
    def registrations(self) -> RegistrationStore: ...
    @property
    def invites(self) -> InviteStore: ...
    @property
    def role_audit(self) -> RoleAuditStore: ...
    @property
    def outbox(self) -> OutboxWriter: ...
    async def commit(self) -> None: ...


class PickerRepos(Protocol):
    @property
    def work(self) -> DepartmentDirectory: ...


class LetterBox(Protocol):
    """A mailbox as membership sees it: who reads its letters. `mailboxes.settings.Box` (read
    from the config) is one; declared here because members sit below mailboxes."""

    @property
    def key(self) -> str: ...
    @property
    def roles(self) -> frozenset[Role]: ...
    @property
    def telegram_ids(self) -> frozenset[int]: ...
    def name(self, locale: str | None) -> str: ...
