"""Membership: who someone is, registration, approvals, invites, roles, the roster."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from common.clock import Clock, system_clock
from common.errors import N_, DomainError, PermissionDenied
from members import notifications
from members.dto import Identity, MemberDTO, RegistrationRequestDTO
from members.roles import NON_PERSON_TELEGRAM_IDS, Role
from members.roster import RosterRow
from outbox.model import Notification
from storage.repos.registration import APPROVED, REJECTED
from storage.uow import Repositories

# Bump when the privacy notice shown at registration changes materially.
# Bump when the privacy notice changes: members are then asked again (handlers/consent.py).
CONSENT_VERSION = 2
INVITE_PREFIX = "inv_"
EMPLOYEE_ID_MAX, NAME_MAX = 32, 64
APPROVER_ROLES = (Role.OFFICER, Role.ADMIN)


@dataclass(frozen=True, slots=True)
class Recipient:
    """Someone the bot writes to on its own (an approver, a requester)."""

    telegram_id: int
    locale: str | None


@dataclass(frozen=True, slots=True)
class RegistrationResult:
    status: Literal["registered", "pending", "already_pending", "already_registered"]
    member: MemberDTO | None = None
    request: RegistrationRequestDTO | None = None
    approvers: tuple[Recipient, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    request: RegistrationRequestDTO
    approved: bool
    member: MemberDTO | None = None


@dataclass(frozen=True, slots=True)
class ImportSummary:
    created: int = 0
    updated: int = 0
    employee_ids: list[str] = field(default_factory=list)


def normalize_name(name: str) -> str:
    """Compare names the way people type them: NFKC, no spaces, case-insensitive."""
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


class MembershipService:
    def __init__(
        self, repos: Repositories, *, admins: Iterable[int] = (), clock: Clock = system_clock
    ) -> None:
        self._repos = repos
        self._admins = frozenset(admins) - NON_PERSON_TELEGRAM_IDS
        self._clock = clock

    # -- who is this ------------------------------------------------------------------------
    async def identify(self, telegram_id: int) -> Identity:
        if telegram_id in NON_PERSON_TELEGRAM_IDS:
            return Identity(telegram_id=telegram_id, member=None, roles=frozenset())
        member = await self._repos.members.get_by_telegram_id(telegram_id)
        roles = set(member.roles) if member else set()
        if telegram_id in self._admins:
            roles.add(Role.ADMIN)
        return Identity(telegram_id=telegram_id, member=member, roles=frozenset(roles))

    # -- registration -------------------------------------------------------------------------
    async def register(
        self, telegram_id: int, employee_id: str, name: str, locale: str | None
    ) -> RegistrationResult:
        """Match the roster and link; otherwise file a request for officers to decide."""
        self._refuse_non_person(telegram_id)
        employee_id, name = validate_employee_id(employee_id), validate_name(name)
        existing = await self._repos.members.get_by_telegram_id(telegram_id)
        if existing is not None:
            return RegistrationResult("already_registered", member=existing)
        pending = await self._repos.registrations.pending_for(telegram_id)
        if pending is not None:
            return RegistrationResult("already_pending", request=pending)
        member = await self._repos.members.get_by_employee_id(employee_id)
        if (
            member is not None
            and member.telegram_id is None
            and normalize_name(member.name) == normalize_name(name)
        ):
            linked = await self._link(member.id, telegram_id, locale)
            await self._repos.commit()
            return RegistrationResult("registered", member=linked)
        request = await self._repos.registrations.create(
            telegram_id, employee_id, name, locale, CONSENT_VERSION
        )
        approvers = await self.approvers()
        for approver in approvers:  # same transaction: the request and its notices, or neither
            await self._repos.outbox.enqueue(
                Notification(
                    key=f"registration:{request.id}:approver:{approver.telegram_id}",
                    chat_id=approver.telegram_id,
                    locale=approver.locale,
                    template=notifications.REGISTRATION_REQUEST,
                    params={
                        "request_id": request.id,
                        "employee_id": request.employee_id,
                        "name": request.name,
                    },
                )
            )
        await self._repos.commit()
        return RegistrationResult("pending", request=request, approvers=approvers)

    async def redeem_invite(
        self, telegram_id: int, code: str, locale: str | None
    ) -> RegistrationResult:
        self._refuse_non_person(telegram_id)
        existing = await self._repos.members.get_by_telegram_id(telegram_id)
        if existing is not None:
            return RegistrationResult("already_registered", member=existing)
        member_id = await self._repos.invites.redeem(hash_code(code), self._clock())
        if member_id is None:
            raise DomainError(N_("This invitation link is invalid, already used or expired."))
        member = await self._link(member_id, telegram_id, locale)
        await self._repos.commit()
        return RegistrationResult("registered", member=member)

    async def has_pending_request(self, telegram_id: int) -> bool:
        return await self._repos.registrations.pending_for(telegram_id) is not None

    async def approvers(self) -> tuple[Recipient, ...]:
        officers = await self._repos.members.linked_with_roles(APPROVER_ROLES)
        recipients = {m.telegram_id: Recipient(m.telegram_id, m.locale) for m in officers}
        for admin_id in self._admins:  # bootstrap admins may not be on the roster yet
            recipients.setdefault(admin_id, Recipient(admin_id, None))
        return tuple(r for r in recipients.values() if r.telegram_id is not None)

    async def pending_requests(self, actor: Identity) -> list[RegistrationRequestDTO]:
        self._require(actor, Role.OFFICER)
        return await self._repos.registrations.list_pending()

    async def decide(self, actor: Identity, request_id: int, approve: bool) -> Decision:
        """An officer approves (links or creates the member) or rejects a request."""
        self._require(actor, Role.OFFICER)
        request = await self._repos.registrations.get(request_id)
        if request is None:
            raise DomainError(N_("This request no longer exists."))
        if request.status != "pending":
            raise DomainError(N_("This request was already handled."))
        decided_by = actor.member.id if actor.member else None
        if not await self._repos.registrations.decide(
            request_id, APPROVED if approve else REJECTED, decided_by, self._clock()
        ):
            raise DomainError(N_("This request was already handled."))
        member = None
        if approve:
            member = await self._approve(request)
        await self._repos.outbox.enqueue(
            Notification(
                key=f"registration:{request.id}:decision",
                chat_id=request.telegram_id,
                locale=request.locale,
                template=notifications.REGISTRATION_APPROVED
                if member
                else notifications.REGISTRATION_REJECTED,
                params={"name": member.name, "roles": sorted(member.roles)} if member else {},
            )
        )
        await self._repos.commit()
        return Decision(request=request, approved=approve, member=member)

    async def _approve(self, request: RegistrationRequestDTO) -> MemberDTO:
        if await self._repos.members.get_by_telegram_id(request.telegram_id) is not None:
            raise DomainError(N_("This person is already registered."))
        member = await self._repos.members.get_by_employee_id(request.employee_id)
        if member is None:
            await self._repos.members.upsert(request.employee_id, request.name, "", None)
            member = await self._repos.members.get_by_employee_id(request.employee_id)
            assert member is not None
        elif member.telegram_id is not None:
            raise DomainError(
                N_("Employee {employee_id} is already linked to another Telegram account."),
                employee_id=request.employee_id,
            )
        return await self._link(member.id, request.telegram_id, request.locale)

    async def _link(self, member_id: int, telegram_id: int, locale: str | None) -> MemberDTO:
        linked = await self._repos.members.link_telegram(
            member_id,
            telegram_id,
            locale=locale,
            consent_version=CONSENT_VERSION,
            now=self._clock(),
        )
        if not linked:
            raise DomainError(N_("This roster entry is already linked to another account."))
        member = await self._repos.members.get(member_id)
        assert member is not None
        return member

    # -- invites ------------------------------------------------------------------------------
    async def create_invite(self, employee_id: str, ttl: timedelta) -> str:
        """A one-time code for /start; only its hash is stored."""
        member = await self._repos.members.get_by_employee_id(employee_id)
        if member is None:
            raise DomainError(
                N_("No member with employee id {employee_id}."), employee_id=employee_id
            )
        if member.telegram_id is not None:
            raise DomainError(
                N_("Employee {employee_id} is already registered."), employee_id=employee_id
            )
        code = secrets.token_urlsafe(12)  # 96 random bits, 16 characters, deep-link safe
        await self._repos.invites.create(member.id, hash_code(code), self._clock() + ttl)
        await self._repos.commit()
        return code

    async def set_reachable(self, telegram_id: int, *, reachable: bool) -> None:
        await self._repos.members.set_reachable(telegram_id, reachable, self._clock())
        await self._repos.commit()

    # -- preferences and roles ---------------------------------------------------------------
    async def set_locale(self, actor: Identity, locale: str) -> None:
        if actor.member is None:
            return
        await self._repos.members.set_locale(actor.member.id, locale)
        await self._repos.commit()

    async def find_member(self, actor: Identity, employee_id: str) -> MemberDTO:
        self._require(actor, Role.OFFICER)
        member = await self._repos.members.get_by_employee_id(employee_id.strip())
        if member is None:
            raise DomainError(
                N_("No member with employee id {employee_id}."), employee_id=employee_id.strip()
            )
        return member

    async def get_member(self, actor: Identity, member_id: int) -> MemberDTO:
        self._require(actor, Role.OFFICER)
        member = await self._repos.members.get(member_id)
        if member is None:
            raise DomainError(N_("This member no longer exists."))
        return member

    async def toggle_role(self, actor: Identity, member_id: int, role: Role) -> MemberDTO:
        """Grant or revoke one role. Officers manage roles; only admins grant admin."""
        self._require(actor, Role.ADMIN if role is Role.ADMIN else Role.OFFICER)
        member = await self.get_member(actor, member_id)
        if actor.member is not None and actor.member.id == member.id:
            raise DomainError(N_("You cannot change your own roles."))
        roles = set(member.roles) ^ {role}
        updated = await self._repos.members.set_roles(member.id, roles)
        await self._repos.commit()
        return updated

    # -- roster ---------------------------------------------------------------------------------
    async def import_roster(self, rows: Sequence[RosterRow]) -> ImportSummary:
        """Upsert by employee id in one transaction: all rows or none."""
        created = updated = 0
        for row in rows:
            if await self._repos.members.upsert(
                row.employee_id, row.name, row.department, row.roles
            ):
                created += 1
            else:
                updated += 1
        await self._repos.commit()
        return ImportSummary(created=created, updated=updated)

    async def list_members(self) -> list[MemberDTO]:
        return await self._repos.members.list_all()

    # -- helpers ------------------------------------------------------------------------------
    @staticmethod
    def _require(actor: Identity, role: Role) -> None:
        if not actor.has(role):
            raise PermissionDenied()

    @staticmethod
    def _refuse_non_person(telegram_id: int) -> None:
        if telegram_id in NON_PERSON_TELEGRAM_IDS:
            raise DomainError(N_("This account cannot register."))


def validate_employee_id(value: str) -> str:
    value = value.strip()
    if not value:
        raise DomainError(N_("Please send your employee id as text."))
    if len(value) > EMPLOYEE_ID_MAX or not all(c.isalnum() or c in "-_." for c in value):
        raise DomainError(
            N_("An employee id has at most {limit} letters or digits. Please try again."),
            limit=EMPLOYEE_ID_MAX,
        )
    return value


def validate_name(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise DomainError(N_("Please send your name as text."))
    if len(value) > NAME_MAX:
        raise DomainError(
            N_("A name has at most {limit} characters. Please try again."), limit=NAME_MAX
        )
    return value
