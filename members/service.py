"""Membership: who someone is, registration, approvals, invites, roles, the roster."""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Literal

from common.clock import Clock, system_clock
from common.errors import N_, DomainError, PermissionDenied
from members import notifications
from members.dto import (
    APPROVED,
    REJECTED,
    Identity,
    MemberDTO,
    PendingRequest,
    RegistrationRequestDTO,
    RoleChangeRow,
    RosterEntry,
)
from members.ports import LetterBox, MemberRepos
from members.roles import NON_PERSON_TELEGRAM_IDS, Role
from members.roster import RosterRow
from outbox.model import Notification

# Bump when the privacy notice shown at registration changes materially.
# Bump when the privacy notice changes: members are then asked again (handlers/members/consent.py).
CONSENT_VERSION = 2
INVITE_PREFIX = "inv_"
EMPLOYEE_ID_MAX, NAME_MAX = 32, 64
APPROVER_ROLES = (Role.OFFICER, Role.ADMIN)
# A roster row holding only these roles is a plain member's; any other role reads other
# people's words or runs the bot, so it never links by an employee id and a name.
PLAIN_ROLES = frozenset({Role.MEMBER, Role.REPRESENTATIVE})
# Roles that read a mailbox whatever the config says; boxes may name more.
MAILBOX_ROLES = frozenset({Role.PRINCIPAL, Role.SECRETARY})
# Requests one account may file in the window before it has to wait (wrong ids or names).
ATTEMPT_LIMIT, ATTEMPT_WINDOW = 3, timedelta(minutes=15)

logger = logging.getLogger(__name__)


def is_privileged(roles: Iterable[Role]) -> bool:
    return bool(set(roles) - PLAIN_ROLES)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who changed a role, for the audit: a member, a configured admin, or the server."""

    kind: Literal["member", "admin", "cli", "roster", "registration", "invite"]
    member_id: int | None = None
    telegram_id: int | None = None  # configured admins not on the roster

    @classmethod
    def of(cls, identity: Identity) -> Actor:
        if identity.member is not None:
            return cls("member", member_id=identity.member.id)
        return cls("admin", telegram_id=identity.telegram_id)


CLI, ROSTER = Actor("cli"), Actor("roster")


@dataclass(frozen=True, slots=True)
class Recipient:
    """Someone the bot writes to on its own (an approver, a requester)."""

    telegram_id: int
    locale: str | None


@dataclass(frozen=True, slots=True)
class RegistrationResult:
    status: Literal["registered", "pending", "already_pending", "already_registered", "throttled"]
    member: MemberDTO | None = None
    request: RegistrationRequestDTO | None = None
    approvers: tuple[Recipient, ...] = ()
    retry_minutes: int = 0  # throttled: when the account may try again


@dataclass(frozen=True, slots=True)
class Decision:
    request: RegistrationRequestDTO
    approved: bool
    member: MemberDTO | None = None
    roster: RosterEntry | None = None


@dataclass(frozen=True, slots=True)
class ImportSummary:
    created: int = 0
    updated: int = 0
    employee_ids: list[str] = field(default_factory=list)
    role_changes: int = 0


@dataclass(frozen=True, slots=True)
class Invite:
    employee_id: str
    name: str
    code: str


def normalize_name(name: str) -> str:
    """Compare names the way people type them: NFKC, no spaces, case-insensitive."""
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


class MembershipService:
    def __init__(
        self,
        repos: MemberRepos,
        *,
        admins: Iterable[int] = (),
        clock: Clock = system_clock,
        boxes: Sequence[LetterBox] = (),
        match_by_name: bool = True,
    ) -> None:
        self._repos = repos
        self._admins = frozenset(admins) - NON_PERSON_TELEGRAM_IDS
        self._clock = clock
        self._boxes = tuple(boxes)
        self._match_by_name = match_by_name

    @cached_property
    def _admin_only(self) -> frozenset[Role]:
        # Who may read letters is decided by these roles: only an admin (or the server) gives
        # them, so an officer cannot make a second account of theirs a recipient. Computed on
        # first use: a service is built for every update, role changes are rare.
        return frozenset(
            {Role.ADMIN, *MAILBOX_ROLES, *(role for box in self._boxes for role in box.roles)}
        )

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
        """Link a plain member's row on an id + name match; otherwise file a request.

        A row with any role beyond member/representative, a row already linked, and (with
        match_by_name off) every row need an invite link or an approval instead. The person
        gets the same answer in every case, so the reply does not tell what the row holds."""
        self._refuse_non_person(telegram_id)
        employee_id, name = validate_employee_id(employee_id), validate_name(name)
        existing = await self._repos.members.get_by_telegram_id(telegram_id)
        if existing is not None:
            return RegistrationResult("already_registered", member=existing)
        pending = await self._repos.registrations.pending_for(telegram_id)
        if pending is not None:
            return RegistrationResult("already_pending", request=pending)
        now = self._clock()
        attempts, oldest = await self._repos.registrations.count_since(
            telegram_id, now - ATTEMPT_WINDOW
        )
        if attempts >= ATTEMPT_LIMIT and oldest is not None:
            # Counts only: no id, name or Telegram id in the log.
            logger.warning(
                "registration refused: %d unmatched attempts from one account in %d minutes",
                attempts,
                ATTEMPT_WINDOW // timedelta(minutes=1),
            )
            wait = (oldest + ATTEMPT_WINDOW - now) / timedelta(minutes=1)
            return RegistrationResult("throttled", retry_minutes=max(1, math.ceil(wait)))
        member = await self._repos.members.get_by_employee_id(employee_id)
        if (
            self._match_by_name
            and member is not None
            and member.telegram_id is None
            and not is_privileged(member.roles)
            and normalize_name(member.name) == normalize_name(name)
        ):
            linked = await self._link(member.id, telegram_id, locale, Actor("registration"))
            await self._repos.commit()
            return RegistrationResult("registered", member=linked)
        request = await self._repos.registrations.create(
            telegram_id, employee_id, name, locale, CONSENT_VERSION, now=now
        )
        roster = _roster_entry(member)
        if member is not None and member.telegram_id is not None:
            # Someone else holds this row: its owner hears of the attempt.
            await self._repos.outbox.enqueue(
                Notification.for_member(
                    member,
                    ("registration", request.id, "owner"),
                    template=notifications.REGISTRATION_ATTEMPT,
                    params={"employee_id": member.employee_id},
                )
            )
        privileged = roster is not None and not roster.linked and is_privileged(roster.roles)
        approvers = await (self.admins() if privileged else self.approvers())
        for approver in approvers:  # same transaction: the request and its notices, or neither
            await self._repos.outbox.enqueue(
                Notification.for_member(
                    approver,
                    ("registration", request.id, "approver", approver.telegram_id),
                    template=notifications.REGISTRATION_REQUEST,
                    params={
                        "request_id": request.id,
                        "employee_id": request.employee_id,
                        "name": request.name,
                        "roster": roster_params(roster),
                    },
                )
            )
        if attempts + 1 >= ATTEMPT_LIMIT:
            logger.info("registration: %d unmatched attempts from one account", attempts + 1)
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
        member = await self._link(member_id, telegram_id, locale, Actor("invite"))
        await self._repos.commit()
        return RegistrationResult("registered", member=member)

    async def has_pending_request(self, telegram_id: int) -> bool:
        return await self._repos.registrations.pending_for(telegram_id) is not None

    async def approvers(self) -> tuple[Recipient, ...]:
        officers = await self._repos.members.linked_with_roles(APPROVER_ROLES)
        recipients = {
            m.telegram_id: Recipient(m.telegram_id, m.locale)
            for m in officers
            if m.telegram_id is not None
        }
        for admin_id in self._admins:  # bootstrap admins may not be on the roster yet
            recipients.setdefault(admin_id, Recipient(admin_id, None))
        return tuple(recipients.values())

    async def admins(self) -> tuple[Recipient, ...]:
        """Who may approve a request for a privileged row."""
        admins = await self._repos.members.linked_with_roles([Role.ADMIN])
        recipients = {
            m.telegram_id: Recipient(m.telegram_id, m.locale)
            for m in admins
            if m.telegram_id is not None
        }
        for admin_id in self._admins:
            recipients.setdefault(admin_id, Recipient(admin_id, None))
        return tuple(recipients.values())

    async def pending_requests(self, actor: Identity) -> list[PendingRequest]:
        self._require(actor, Role.OFFICER)
        return [
            PendingRequest(request, await self._roster_for(request.employee_id))
            for request in await self._repos.registrations.list_pending()
        ]

    async def _roster_for(self, employee_id: str) -> RosterEntry | None:
        return _roster_entry(await self._repos.members.get_by_employee_id(employee_id))

    async def decide(self, actor: Identity, request_id: int, approve: bool) -> Decision:
        """An officer approves (links or creates the member) or rejects a request."""
        self._require(actor, Role.OFFICER)
        request = await self._repos.registrations.get(request_id)
        if request is None:
            raise DomainError(N_("This request no longer exists."))
        if request.status != "pending":
            raise DomainError(N_("This request was already handled."))
        # Judged on the row as it is now: the roster may have changed since the request.
        roster = await self._roster_for(request.employee_id)
        if approve and roster is not None and is_privileged(roster.roles):
            self._require(actor, Role.ADMIN)
        decided_by = actor.member.id if actor.member else None
        if not await self._repos.registrations.decide(
            request_id, APPROVED if approve else REJECTED, decided_by, self._clock()
        ):
            raise DomainError(N_("This request was already handled."))
        member = None
        if approve:
            member = await self._approve(request, Actor.of(actor))
        await self._repos.outbox.enqueue(
            Notification.for_member(
                request,
                ("registration", request.id, "decision"),
                template=notifications.REGISTRATION_APPROVED
                if member
                else notifications.REGISTRATION_REJECTED,
                params={"name": member.name, "roles": sorted(member.roles)} if member else {},
            )
        )
        await self._repos.commit()
        return Decision(request=request, approved=approve, member=member, roster=roster)

    async def _approve(self, request: RegistrationRequestDTO, actor: Actor) -> MemberDTO:
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
        return await self._link(member.id, request.telegram_id, request.locale, actor)

    async def _link(
        self, member_id: int, telegram_id: int, locale: str | None, actor: Actor
    ) -> MemberDTO:
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
        for role in sorted(member.roles):
            change_id = await self._audit(actor, member.id, role, "linked")
            await self._tell_box_recipients(member, role, change_id)
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
        code = await self._new_invite(member.id, ttl)
        await self._repos.commit()
        return code

    async def create_invites_for_unlinked(self, ttl: timedelta) -> list[Invite]:
        """A fresh one-time code for every roster row no account is linked to (one commit)."""
        invites = [
            Invite(member.employee_id, member.name, await self._new_invite(member.id, ttl))
            for member in await self._repos.members.list_unlinked()
        ]
        await self._repos.commit()
        return invites

    async def _new_invite(self, member_id: int, ttl: timedelta) -> str:
        code = secrets.token_urlsafe(12)  # 96 random bits, 16 characters, deep-link safe
        await self._repos.invites.create(member_id, hash_code(code), self._clock() + ttl)
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

    def manageable_roles(self, actor: Identity) -> tuple[Role, ...]:
        """The roles this person may grant or revoke in the bot."""
        if actor.has(Role.ADMIN):
            return tuple(Role)
        if actor.has(Role.OFFICER):
            return tuple(role for role in Role if role not in self._admin_only)
        return ()

    async def toggle_role(self, actor: Identity, member_id: int, role: Role) -> MemberDTO:
        """Grant or revoke one role. Officers manage roles; only admins give or take admin
        and the roles that receive a mailbox's letters. Every change goes to the audit."""
        self._require(actor, Role.ADMIN if role in self._admin_only else Role.OFFICER)
        member = await self.get_member(actor, member_id)
        if actor.member is not None and actor.member.id == member.id:
            raise DomainError(N_("You cannot change your own roles."))
        granted = role not in member.roles
        updated = await self._repos.members.set_roles(member.id, set(member.roles) ^ {role})
        change_id = await self._audit(
            Actor.of(actor), member.id, role, "granted" if granted else "revoked"
        )
        if granted:
            await self._tell_box_recipients(updated, role, change_id)
        await self._repos.commit()
        return updated

    async def _audit(self, actor: Actor, member_id: int, role: Role, change: str) -> int:
        return await self._repos.role_audit.record(
            changed_at=self._clock(),
            actor_kind=actor.kind,
            actor_member_id=actor.member_id,
            actor_telegram_id=actor.telegram_id,
            member_id=member_id,
            role=role.value,
            change=change,
        )

    async def _tell_box_recipients(self, member: MemberDTO, role: Role, change_id: int) -> None:
        """A linked member now receives a box's letters: the box's current recipients hear."""
        if member.telegram_id is None:
            return  # not reading anything until linked; linking tells them then
        for box in self._boxes:
            if role not in box.roles:
                continue
            current = await self._repos.members.readers(box.roles, box.telegram_ids)
            for recipient in (r for r in current if r.id != member.id):
                await self._repos.outbox.enqueue(
                    Notification.for_member(
                        recipient,
                        ("roles", change_id, box.key, recipient.id),
                        template=notifications.RECIPIENT_ADDED,
                        params={
                            "box": box.name(recipient.locale),
                            "name": member.name,
                            "department": member.department,
                        },
                    )
                )

    async def role_audit(self) -> list[RoleChangeRow]:
        return await self._repos.role_audit.list_all()

    # -- roster ---------------------------------------------------------------------------------
    async def import_roster(self, rows: Sequence[RosterRow]) -> ImportSummary:
        """Upsert by employee id in one transaction: all rows or none. Role changes go to the
        audit as the roster's."""
        created = updated = changes = 0
        for row in rows:
            before = await self._repos.members.get_by_employee_id(row.employee_id)
            if await self._repos.members.upsert(
                row.employee_id, row.name, row.department, row.roles
            ):
                created += 1
            else:
                updated += 1
            old_roles = before.roles if before is not None else frozenset()
            if before is not None and row.roles is None:
                continue  # roles kept as they were
            after = await self._repos.members.get_by_employee_id(row.employee_id)
            assert after is not None
            for role in sorted(after.roles ^ old_roles):
                granted = role in after.roles
                change_id = await self._audit(
                    ROSTER, after.id, role, "granted" if granted else "revoked"
                )
                changes += 1
                if granted:
                    await self._tell_box_recipients(after, role, change_id)
        await self._repos.commit()
        return ImportSummary(created=created, updated=updated, role_changes=changes)

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


def _roster_entry(member: MemberDTO | None) -> RosterEntry | None:
    if member is None:
        return None
    return RosterEntry(
        name=member.name,
        department=member.department,
        roles=member.roles,
        linked=member.telegram_id is not None,
    )


def roster_params(roster: RosterEntry | None) -> dict[str, object] | None:
    """A roster entry as outbox parameters (JSON)."""
    if roster is None:
        return None
    return {
        "name": roster.name,
        "department": roster.department,
        "roles": sorted(role.value for role in roster.roles),
        "linked": roster.linked,
    }


def roster_from_params(params: object) -> RosterEntry | None:
    if not isinstance(params, dict):
        return None
    return RosterEntry(
        name=str(params["name"]),
        department=str(params["department"]),
        roles=frozenset(Role(r) for r in params["roles"]),
        linked=bool(params["linked"]),
    )


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
