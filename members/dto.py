"""Plain data handed from storage to services and handlers (no ORM objects leak out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from common.errors import N_, DomainError
from members.roles import Role, effective_roles

# Shown in the union's records (exports, kept proposals and letters) for someone who has left.
FORMER_MEMBER = "（已离会）"
NOT_REGISTERED = N_("Please register first: send /start.")

# A registration request's status.
PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"


@dataclass(frozen=True, slots=True)
class MemberDTO:
    id: int
    employee_id: str
    name: str
    department: str
    telegram_id: int | None
    locale: str | None
    roles: frozenset[Role]
    registered_at: datetime | None = None
    consent_version: int | None = None


@dataclass(frozen=True, slots=True)
class RegistrationRequestDTO:
    id: int
    telegram_id: int
    employee_id: str
    name: str
    locale: str | None
    status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """What approving a request would link the person to: shown on the approval card."""

    name: str
    department: str
    roles: frozenset[Role]
    linked: bool  # already linked to another Telegram account: approving is refused


@dataclass(frozen=True, slots=True)
class PendingRequest:
    request: RegistrationRequestDTO
    roster: RosterEntry | None  # None: no roster row has that employee id


@dataclass(frozen=True, slots=True)
class Identity:
    """Who sent an update: the linked member (if any) and the roles in force right now."""

    telegram_id: int
    member: MemberDTO | None
    roles: frozenset[Role]

    @property
    def is_registered(self) -> bool:
        return self.member is not None

    def has(self, role: Role) -> bool:
        return role in effective_roles(self.roles)

    def require_member(self) -> MemberDTO:
        """The linked member; a DomainError asking to register when there is none."""
        if self.member is None:
            raise DomainError(NOT_REGISTERED)
        return self.member


@dataclass(frozen=True, slots=True)
class RoleChangeRow:
    """One audit row with the people resolved (None: not a member, or erased since)."""

    id: int
    changed_at: datetime
    actor_kind: str
    actor_telegram_id: int | None
    actor_employee_id: str | None
    actor_name: str | None
    employee_id: str | None
    name: str | None
    role: str
    change: str
