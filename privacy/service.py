"""A member's data rights: see what the bot holds (/mydata), copy it (JSON, XLSX), ask for
erasure; officers confirm erasures; `members forget` erases from the command line."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from common.clock import Clock, system_clock
from common.errors import N_, DomainError, PermissionDenied
from common.tables import write_sheets
from mailboxes.sealing import Sealer
from members.dto import Identity, MemberDTO
from members.roles import Role
from outbox.model import Notification
from privacy.ports import PrivacyRepos

ERASURE_REQUESTED = "privacy.erasure_requested"  # to officers: name, employee_id
ExportFormat = Literal["json", "xlsx"]


@dataclass(frozen=True, slots=True)
class PendingErasure:
    member: MemberDTO
    requested_at: datetime


class DataRightsService:
    def __init__(self, repos: PrivacyRepos, sealer: Sealer, *, clock: Clock = system_clock):
        self._repos = repos
        self._data = repos.personal_data
        self._sealer = sealer
        self._clock = clock

    # -- seeing and copying -----------------------------------------------------------------------
    async def collect(self, member: MemberDTO) -> dict[str, Any]:
        """Everything linked to the member, as plain JSON-ready data."""
        return {
            "profile": await self._data.profile(member.id),
            "surveys": await self._data.surveys(member.id),
            "proposals": await self._data.proposals(member.id),
            "cosigned_proposals": await self._data.cosigned(member.id),
            "letters": await self._data.letters(member.id, self._sealer.sender_tag(member.id)),
            "notifications": await self._data.notifications(member.telegram_id),
            "not_included": (
                "Anonymous survey answers and anonymous letters: nothing in the database "
                "links them to you, so they cannot be found or shown."
            ),
        }

    async def export(self, actor: Identity, fmt: ExportFormat) -> tuple[str, bytes]:
        data = await self.collect(actor.require_member())
        stamp = f"{self._clock():%Y%m%d}"
        if fmt == "json":
            content = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
            return f"mydata-{stamp}.json", content
        buffer = io.BytesIO()
        write_sheets(_sheets(data), buffer)
        return f"mydata-{stamp}.xlsx", buffer.getvalue()

    # -- erasure ----------------------------------------------------------------------------------
    async def request_erasure(self, actor: Identity) -> bool:
        member = actor.require_member()
        created = await self._data.request_erasure(member.id)
        if created:
            for officer in await self._repos.members.linked_with_roles([Role.OFFICER, Role.ADMIN]):
                await self._repos.outbox.enqueue(
                    Notification.for_member(
                        officer,
                        ("erasure", member.id, f"{self._clock():%Y%m%d%H%M%S}", officer.id),
                        template=ERASURE_REQUESTED,
                        params={"name": member.name, "employee_id": member.employee_id},
                    )
                )
        await self._repos.commit()
        return created

    async def cancel_erasure(self, actor: Identity) -> bool:
        cancelled = await self._data.cancel_erasure(actor.require_member().id)
        await self._repos.commit()
        return cancelled

    async def pending_erasures(self, actor: Identity) -> list[PendingErasure]:
        _require_officer(actor)
        pending = []
        for member_id, at in await self._data.pending_erasures():
            member = await self._repos.members.get(member_id)
            if member is not None:
                pending.append(PendingErasure(member, at))
        return pending

    async def confirm_erasure(self, actor: Identity, member_id: int) -> dict[str, Any]:
        """An officer confirms a pending request (and only a pending one)."""
        _require_officer(actor)
        if member_id not in {m for m, _at in await self._data.pending_erasures()}:
            raise DomainError(N_("There is no pending request to erase this member's data."))
        member = await self._repos.members.get(member_id)
        assert member is not None
        return await self.erase(member)

    async def erase(self, member: MemberDTO) -> dict[str, Any]:
        counts = await self._data.erase(
            member.id, member.telegram_id, self._sealer.sender_tag(member.id), member.employee_id
        )
        await self._repos.commit()
        return counts

    async def erase_by_employee_id(self, employee_id: str) -> dict[str, Any] | None:
        member = await self._repos.members.get_by_employee_id(employee_id)
        return None if member is None else await self.erase(member)

    # -- consent ----------------------------------------------------------------------------------
    async def record_consent(self, actor: Identity, version: int) -> None:
        await self._repos.members.record_consent(actor.require_member().id, version, self._clock())
        await self._repos.commit()


def _require_officer(actor: Identity) -> None:
    if not actor.has(Role.OFFICER):
        raise PermissionDenied()


def _sheets(data: dict[str, Any]) -> dict[str, tuple[list[str], list[list[str]]]]:
    """One sheet per section: the keys as columns, every value as text."""
    sheets: dict[str, tuple[list[str], list[list[str]]]] = {}
    profile = data["profile"] or {}
    sheets["profile"] = (["field", "value"], [[k, _cell(v)] for k, v in profile.items()])
    for section in ("surveys", "proposals", "cosigned_proposals", "letters", "notifications"):
        rows = data[section]
        columns = list(rows[0]) if rows else ["(none)"]
        sheets[section] = (columns, [[_cell(row.get(c)) for c in columns] for row in rows])
    sheets["not_included"] = (["note"], [[data["not_included"]]])
    return sheets


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
