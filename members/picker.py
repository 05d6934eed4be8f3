"""Choosing a member from the roster instead of typing an employee id: a department, then a
person. Officers only (the picker shows names and employee ids)."""

from __future__ import annotations

from dataclasses import dataclass

from common.errors import N_, DomainError, PermissionDenied
from members.dto import Identity
from members.ports import PickerRepos
from members.roles import Role

PAGE = 20  # members per page of buttons


@dataclass(frozen=True, slots=True)
class MemberChoice:
    id: int
    name: str
    employee_id: str


@dataclass(frozen=True, slots=True)
class DepartmentPage:
    index: int
    department: str
    members: list[MemberChoice]
    page: int
    pages: int


class MemberPicker:
    def __init__(self, repos: PickerRepos) -> None:
        self._work = repos.work

    async def departments(self, actor: Identity) -> list[str]:
        """The roster's departments by name; a button carries the position, not the name."""
        _require_officer(actor)
        return sorted(name for name, _handlers in await self._work.departments())

    async def members_of(self, actor: Identity, index: int, page: int = 0) -> DepartmentPage:
        departments = await self.departments(actor)
        if not 0 <= index < len(departments):
            raise DomainError(N_("This button is no longer valid."))
        everyone = [MemberChoice(*row) for row in await self._work.members_in(departments[index])]
        pages = max(1, -(-len(everyone) // PAGE))
        page = min(max(page, 0), pages - 1)
        return DepartmentPage(
            index, departments[index], everyone[page * PAGE : (page + 1) * PAGE], page, pages
        )


def _require_officer(actor: Identity) -> None:
    if not actor.has(Role.OFFICER):
        raise PermissionDenied()
