"""Drafts without a text editor: from a ready-made survey or a workbook, renamed, exported for
Excel, scheduled and opened. Every change goes through the definition parser like a TOML import.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from common.clock import Clock, system_clock
from common.errors import N_, DomainError, PermissionDenied
from members.dto import Identity
from members.roles import Role
from surveys import library, schedule
from surveys.ports import SurveyRepos
from surveys.service import OpenOutcome, SurveyInfo, SurveyService
from surveys.tomlwriter import write_definition
from surveys.workbook import definition_workbook, workbook_to_toml

DefinitionFormat = Literal["xlsx", "toml"]


def _require_officer(actor: Identity | None) -> None:
    if actor is not None and not actor.has(Role.OFFICER):  # None: the CLI
        raise PermissionDenied()


@dataclass(frozen=True, slots=True)
class Scheduled:
    survey: SurveyInfo
    opened: OpenOutcome | None  # opened at once ("now"); else the sweep opens it at opens_at


class SurveyDrafts:
    def __init__(
        self,
        surveys: SurveyService,
        repos: SurveyRepos,
        *,
        timezone: str = "Asia/Shanghai",
        clock: Clock = system_clock,
    ) -> None:
        self._surveys, self._repos = surveys, repos
        self._tz = ZoneInfo(timezone)
        self._clock = clock

    # -- files --------------------------------------------------------------------------------
    def template_workbook(self) -> bytes:
        """The blank template: the example survey with the instructions."""
        return definition_workbook(library.template_definition(library.EXAMPLE, self._tz), self._tz)

    async def import_workbook(self, data: bytes, filename: str) -> tuple[SurveyInfo, bool]:
        """WorkbookError (located problems) or DefinitionError (conflicts with answers given);
        nothing is stored then."""
        source = workbook_to_toml(data, filename, self._tz)
        return await self._surveys.import_definition(source, filename)

    async def export_definition(self, slug: str, fmt: DefinitionFormat) -> bytes:
        survey = await self._surveys.by_slug(slug)
        if fmt == "toml":
            return (await self._source(survey.id)).encode("utf-8")
        return definition_workbook(survey.definition, self._tz)

    # -- drafts -------------------------------------------------------------------------------
    async def from_template(self, name: str, *, actor: Identity | None = None) -> SurveyInfo:
        """A new draft from a ready-made survey, under an id of its own (dated)."""
        _require_officer(actor)
        source = library.template_source(name)
        base = f"{tomllib.loads(source)['id']}-{self._clock().astimezone(self._tz):%Y%m%d}"
        slug, number = base, 1
        while await self._repos.surveys.get_by_slug(slug) is not None:
            number += 1
            slug = f"{base}-{number}"
        survey, _created = await self._surveys.import_definition(
            library.with_id(source, slug), f"{slug}.toml"
        )
        return survey

    async def rename(
        self, survey_id: int, title: str, *, actor: Identity | None = None
    ) -> SurveyInfo:
        title = " ".join(title.split())
        if not title:
            raise DomainError(N_("Please send the new title as text."))
        if len(title) > 200:
            raise DomainError(N_("A title has at most {limit} characters."), limit=200)
        return await self._change(survey_id, actor, {"title": title})

    async def schedule(
        self,
        survey_id: int,
        plan: schedule.Schedule,
        *,
        actor: Identity | None = None,
        progress_chat_id: int | None = None,
        progress_locale: str | None = None,
    ) -> Scheduled:
        """Store when the draft opens and closes, its reminders and audience; open it now if
        so chosen (the invitations go out through the outbox)."""
        schedule.check(plan, self._clock())
        reminders = list(schedule.REMINDERS) if plan.reminders and plan.closes_at else None
        survey = await self._change(
            survey_id,
            actor,
            {
                "audience": list(plan.audience) or ["all"],
                "opens_at": plan.opens_at,
                "closes_at": plan.closes_at,
                "reminders": reminders,
            },
        )
        if plan.opens_at is not None:
            return Scheduled(survey, None)
        opened = await self._surveys.open(
            survey.slug,
            actor=actor,
            progress_chat_id=progress_chat_id,
            progress_locale=progress_locale,
        )
        return Scheduled(opened.survey, opened)

    async def _change(
        self, survey_id: int, actor: Identity | None, changes: dict[str, Any]
    ) -> SurveyInfo:
        _require_officer(actor)
        survey = await self._surveys.get(survey_id)
        if survey.status != "draft":
            raise DomainError(N_("Only a draft can be changed here."))
        raw = tomllib.loads(await self._source(survey_id))
        for key, value in changes.items():
            if value is None:
                raw.pop(key, None)
            else:
                raw[key] = value
        # Rewritten as TOML (comments of a hand-written file are not kept) and validated again.
        source, _lines = write_definition(raw)
        updated, _created = await self._surveys.import_definition(source, f"{survey.slug}.toml")
        return updated

    async def _source(self, survey_id: int) -> str:
        record = await self._repos.surveys.get(survey_id)
        if record is None:
            raise DomainError(N_("This survey no longer exists."))
        return record.source

    # -- audience -----------------------------------------------------------------------------
    async def audience_choices(self) -> tuple[list[str], list[Role]]:
        """The roster's departments and the roles its members hold: the audience buttons."""
        return await self._repos.members.departments(), await self._repos.members.roles_held()

    async def audience_size(self, audience: tuple[str, ...]) -> int:
        """Registered members the invitation would reach."""
        return len(await self._repos.surveys.audience(list(audience) or ["all"]))

    def now(self) -> datetime:
        return self._clock()

    @property
    def timezone(self) -> ZoneInfo:
        return self._tz
