"""Surveys: import, open/close, invitations and reminders, answering and submission."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from common.clock import Clock, system_clock
from common.errors import N_, DomainError, PermissionDenied, WriteConflict
from members.dto import Identity
from members.roles import Role, effective_roles
from outbox.broadcasts import start_broadcast
from outbox.model import Notification
from surveys import answering
from surveys.answering import Draft, Step
from surveys.definition import (
    DefinitionError,
    Question,
    QuestionType,
    SurveyDefinition,
    parse_definition,
)
from surveys.model import AnswerRow, SurveyRecord
from surveys.notifications import SURVEY_INVITATION, SURVEY_REMINDER
from surveys.ports import SurveyRepos

OTHER_OPTION = answering.OTHER_OPTION  # kept here for the handlers and tests
Progress = Literal["new", "started", "done"]  # how far a member got with a survey


@dataclass(frozen=True, slots=True)
class SurveyInfo:
    id: int
    slug: str
    definition: SurveyDefinition
    status: str
    opened_at: datetime | None
    closed_at: datetime | None

    @property
    def anonymous(self) -> bool:
        return self.definition.anonymous


# Open surveys a member may answer (a module-level name: `list` is a method of the service).
Choices = list[tuple[SurveyInfo, Progress]]


@dataclass(frozen=True, slots=True)
class OpenOutcome:
    survey: SurveyInfo
    invited: int
    broadcast_id: int | None


@lru_cache(maxsize=64)
def _parse(source: str, slug: str, zone: str) -> SurveyDefinition:
    # Parsing is pure; answering a question should not re-read TOML every time.
    return parse_definition(source, f"{slug}.toml", ZoneInfo(zone))


class SurveyService:
    def __init__(
        self,
        repos: SurveyRepos,
        *,
        timezone: str = "Asia/Shanghai",
        small_group: int = 5,
        clock: Clock = system_clock,
    ) -> None:
        self._repos = repos
        self._surveys = repos.surveys
        self._zone = timezone
        self._tz = ZoneInfo(timezone)
        self._small_group = small_group
        self._clock = clock
        self._loaded: dict[int, SurveyInfo] = {}  # this service lives for one update

    @property
    def timezone(self) -> str:
        """The union's time zone: definitions and exports read their times in it."""
        return self._zone

    @property
    def small_group(self) -> int:
        """Breakdowns need at least this many respondents (privacy)."""
        return self._small_group

    # -- definitions --------------------------------------------------------------------------
    def _info(self, record: SurveyRecord) -> SurveyInfo:
        return SurveyInfo(
            record.id,
            record.slug,
            _parse(record.source, record.slug, self._zone),
            record.status,
            record.opened_at,
            record.closed_at,
        )

    async def import_definition(self, source: str, filename: str) -> tuple[SurveyInfo, bool]:
        """Validate and store; refuses changes that would orphan answers already given."""
        definition = parse_definition(source, filename, self._tz)
        existing = await self._surveys.get_by_slug(definition.id)
        if existing is not None:
            self._check_compatible(
                existing,
                definition,
                filename,
                await self._surveys.used_answers(existing.id),
                responded=await self._surveys.has_responses(existing.id),
                ranges=await self._surveys.answered_ranges(existing.id),
            )
        survey_id, created = await self._surveys.save(
            definition.id,
            title=definition.title.to_json(),
            source=source,
            anonymous=definition.anonymous,
            opens_at=definition.opens_at,
            closes_at=definition.closes_at,
        )
        await self._repos.commit()
        self._loaded.pop(survey_id, None)
        record = await self._surveys.get(survey_id)
        assert record is not None
        return self._info(record), created

    def _check_compatible(
        self,
        existing: SurveyRecord,
        new: SurveyDefinition,
        filename: str,
        used: dict[str, set[str | None]],
        *,
        responded: bool,
        ranges: dict[str, tuple[float, float]] | None = None,
    ) -> None:
        if not responded:
            return
        old = _parse(existing.source, existing.slug, self._zone)
        problems = []
        if old.anonymous != new.anonymous:
            # Even a response that skipped everything was stored under the old promise.
            problems.append(f"{filename}: 'anonymous' cannot change once responses exist")
        for question_id, options in sorted(used.items()):
            try:
                question = new.question(question_id)
            except KeyError:
                problems.append(
                    f"{filename}: question '{question_id}' has answers and cannot "
                    "be removed or renamed"
                )
                continue
            if question.type is not old.question(question_id).type:
                problems.append(
                    f"{filename}: question '{question_id}' has answers; its type cannot change"
                )
            keys = set(question.option_keys()) | ({answering.OTHER} if question.other else set())
            for option in sorted(o for o in options if o is not None and o not in keys):
                problems.append(
                    f"{filename}: question '{question_id}': option '{option}' has "
                    "answers and cannot be removed or renamed"
                )
        for question_id, (low, high) in sorted((ranges or {}).items()):
            try:
                question = new.question(question_id)
            except KeyError:
                continue  # reported above
            too_low = question.min is not None and low < question.min
            too_high = question.max is not None and high > question.max
            if too_low or too_high:
                problems.append(
                    f"{filename}: question '{question_id}' has answers from {low:g} to "
                    f"{high:g}; its range cannot shrink below them"
                )
        if problems:
            raise DefinitionError(problems)

    async def list(self) -> list[SurveyInfo]:
        return [self._info(r) for r in await self._surveys.list_all()]

    async def get(self, survey_id: int) -> SurveyInfo:
        if survey_id in self._loaded:
            return self._loaded[survey_id]
        record = await self._surveys.get(survey_id)
        if record is None:
            raise SurveyUnavailable(N_("This survey no longer exists."))
        self._loaded[survey_id] = self._info(record)
        return self._loaded[survey_id]

    async def by_slug(self, slug: str) -> SurveyInfo:
        record = await self._surveys.get_by_slug(slug)
        if record is None:
            raise DomainError(N_("There is no survey '{slug}'."), slug=slug)
        return self._info(record)

    # -- lifecycle ----------------------------------------------------------------------------
    async def open(
        self,
        slug: str,
        *,
        actor: Identity | None = None,
        progress_chat_id: int | None = None,
        progress_locale: str | None = None,
    ) -> OpenOutcome:
        """Open the survey and invite everyone in its audience (through the outbox)."""
        _require_officer(actor)
        survey = await self.by_slug(slug)
        if not await self._surveys.set_status(survey.id, "open", self._clock()):
            raise DomainError(N_("This survey is already open."))
        self._loaded.pop(survey.id, None)
        audience = await self._surveys.audience(survey.definition.audience)
        await self._surveys.add_participants(survey.id, [member_id for member_id, *_ in audience])
        done = await self._surveys.done_member_ids(survey.id)
        params = self._message_params(survey)
        broadcast_id = await start_broadcast(
            self._repos,
            title=survey.definition.title.get(progress_locale),
            notifications=[
                Notification.build(
                    ("survey", survey.id, "invite", member_id),
                    chat_id=chat_id,
                    locale=locale,
                    template=SURVEY_INVITATION,
                    params=params,
                )
                for member_id, chat_id, locale in audience
                if member_id not in done
            ],
            progress_chat_id=progress_chat_id,
            progress_locale=progress_locale,
        )
        return OpenOutcome(await self.get(survey.id), len(audience), broadcast_id)

    async def close(self, slug: str, *, actor: Identity | None = None) -> SurveyInfo:
        _require_officer(actor)
        survey = await self.by_slug(slug)
        if not await self._surveys.set_status(survey.id, "closed", self._clock()):
            raise DomainError(N_("This survey is already closed."))
        self._loaded.pop(survey.id, None)
        await self._repos.commit()
        return await self.get(survey.id)

    def _message_params(self, survey: SurveyInfo) -> dict[str, Any]:
        closes = survey.definition.closes_at
        return {
            "survey_id": survey.id,
            "title": survey.definition.title.to_json(),
            "anonymous": survey.anonymous,
            "closes": closes.astimezone(self._tz).strftime("%Y-%m-%d %H:%M") if closes else None,
        }

    async def sweep(self) -> dict[str, int]:
        """Scheduled: open and close at opens_at/closes_at, send due reminders. Idempotent, so
        a sweep after downtime catches up and running it twice sends nothing twice."""
        now = self._clock()
        counts = {"opened": 0, "closed": 0, "reminded": 0}
        for record in await self._surveys.list_by_status("draft", "open"):
            survey = self._info(record)
            definition = survey.definition
            if definition.closes_at and definition.closes_at <= now:
                if await self._surveys.set_status(survey.id, "closed", now):
                    counts["closed"] += 1
                    await self._repos.commit()
                continue
            if survey.status == "draft":
                if definition.opens_at and definition.opens_at <= now:
                    await self.open(survey.slug)
                    counts["opened"] += 1
                continue
            counts["reminded"] += await self._remind(survey, now)
        return counts

    async def _remind(self, survey: SurveyInfo, now: datetime) -> int:
        closes, opened = survey.definition.closes_at, survey.opened_at
        if closes is None:
            return 0
        # A reminder whose moment came before the invitations went out is not sent after them.
        due = [
            offset
            for offset in survey.definition.reminders
            if closes - offset <= now and (opened is None or closes - offset > opened)
        ]
        if not due:
            return 0
        offset = min(due)  # the latest reminder that is due; earlier missed ones are skipped
        params = self._message_params(survey)
        sent = 0
        for member_id, chat_id, locale in await self._surveys.not_done(survey.id):
            sent += await self._repos.outbox.enqueue(
                Notification.build(
                    ("survey", survey.id, "reminder", int(offset.total_seconds()), member_id),
                    chat_id=chat_id,
                    locale=locale,
                    template=SURVEY_REMINDER,
                    params=params,
                )
            )
        await self._repos.commit()
        return sent

    # -- answering ----------------------------------------------------------------------------
    async def available(self, identity: Identity) -> Choices:
        """Open surveys the member may answer, with how far they got."""
        member = identity.require_member()
        done = await self._surveys.done_surveys(member.id)
        started = await self._surveys.drafts_of(member.id)
        result: Choices = []
        for record in await self._surveys.list_by_status("open"):
            survey = self._info(record)
            if _in_audience(survey.definition, identity):
                state: Progress = (
                    "done" if survey.id in done else "started" if survey.id in started else "new"
                )
                result.append((survey, state))
        return result

    async def status_for(self, identity: Identity, survey_id: int) -> tuple[SurveyInfo, Progress]:
        """For the survey's intro screen: may this member answer, and how far did they get."""
        member = identity.require_member()
        survey = await self.get(survey_id)
        if survey.status != "open":
            raise DomainError(N_("This survey is closed."))
        if not _in_audience(survey.definition, identity):
            raise DomainError(N_("This survey is not meant for you."))
        if await self._surveys.is_done(survey.id, member.id):
            return survey, "done"
        started = await self._surveys.draft(survey.id, member.id) is not None
        return survey, "started" if started else "new"

    async def _context(self, identity: Identity, survey_id: int) -> tuple[SurveyInfo, Draft]:
        member = identity.require_member()
        # Survey, done and draft in one read (one hop on a SQLite file).
        found, done, record = await self._surveys.answer_context(survey_id, member.id)
        if found is None:
            raise SurveyUnavailable(N_("This survey no longer exists."))
        survey = self._loaded[survey_id] = self._info(found)
        if survey.status != "open":
            raise SurveyUnavailable(N_("This survey is closed."))
        if not _in_audience(survey.definition, identity):
            raise SurveyUnavailable(N_("This survey is not meant for you."))
        if done:
            raise SurveyUnavailable(N_("You have already answered this survey. Thank you!"))
        draft = Draft.from_json(record.answers, record.editing) if record else Draft()
        return survey, draft

    async def _save(self, identity: Identity, survey: SurveyInfo, draft: Draft) -> Step:
        answering.prune(survey.definition, draft)
        self._surveys.stage_draft(
            survey.id, identity.require_member().id, draft.to_json(), draft.editing
        )
        await self._repos.commit()  # durable before the bot replies
        return answering.next_step(survey.definition, draft)

    async def begin(self, identity: Identity, survey_id: int) -> tuple[SurveyInfo, Step]:
        survey, draft = await self._context(identity, survey_id)
        return survey, await self._save(identity, survey, draft)

    async def current(self, identity: Identity, survey_id: int) -> tuple[SurveyInfo, Step]:
        survey, draft = await self._context(identity, survey_id)
        return survey, answering.next_step(survey.definition, draft)

    async def _at(
        self, identity: Identity, survey_id: int, position: int
    ) -> tuple[SurveyInfo, Draft, Step]:
        survey, draft = await self._context(identity, survey_id)
        step = answering.next_step(survey.definition, draft)
        if step.is_summary or step.position != position:
            raise StaleQuestion(survey, step)
        return survey, draft, step

    async def _question(
        self, identity: Identity, survey_id: int, position: int, *types: QuestionType
    ) -> tuple[SurveyInfo, Draft, Question]:
        """The current question, if the button was for it and is of a fitting kind."""
        survey, draft, step = await self._at(identity, survey_id, position)
        question = step.question
        assert question is not None
        if question.type not in types:
            raise StaleQuestion(survey, step)
        return survey, draft, question

    def _answered(self, draft: Draft, question_id: str, stored: Any) -> None:
        draft.answers[question_id] = stored
        draft.skipped = [q for q in draft.skipped if q != question_id]
        draft.pending.pop(question_id, None)
        draft.other = None
        draft.editing = None

    async def choose(self, identity: Identity, survey_id: int, position: int, option: int) -> Step:
        """A single-choice button (or its "other", which then asks for text)."""
        survey, draft, question = await self._question(
            identity, survey_id, position, QuestionType.SINGLE
        )
        if option == OTHER_OPTION and question.other:
            draft.other = question.id
            return await self._save(identity, survey, draft)
        self._answered(draft, question.id, {"choice": answering.option_key(question, option)})
        return await self._save(identity, survey, draft)

    async def toggle(self, identity: Identity, survey_id: int, position: int, option: int) -> Step:
        survey, draft, question = await self._question(
            identity, survey_id, position, QuestionType.MULTI
        )
        answering.toggle_choice(question, draft, option)
        return await self._save(identity, survey, draft)

    async def confirm(self, identity: Identity, survey_id: int, position: int) -> Step:
        """'Done' under a multiple-choice question."""
        survey, draft, question = await self._question(
            identity, survey_id, position, QuestionType.MULTI
        )
        chosen = draft.pending.get(question.id, [])
        if not chosen:
            raise DomainError(N_("Choose at least one option, or skip the question."))
        order = question.option_keys()
        self._answered(
            draft, question.id, {"choices": sorted(chosen, key=order.index), "other": None}
        )
        return await self._save(identity, survey, draft)

    async def rate(self, identity: Identity, survey_id: int, position: int, value: int) -> Step:
        survey, draft, question = await self._question(
            identity, survey_id, position, QuestionType.SCALE, QuestionType.NPS
        )
        self._answered(draft, question.id, answering.scale_value(question, value))
        return await self._save(identity, survey, draft)

    async def type_in(self, identity: Identity, survey_id: int, text: str) -> Step:
        """Typed text: a text or number answer, or the text of an "other" choice."""
        survey, draft = await self._context(identity, survey_id)
        step = answering.next_step(survey.definition, draft)
        question = step.question
        if question is None:
            raise DomainError(N_("Please use the buttons under the summary."))
        if step.awaiting_other:
            other = answering.parse_text(question, text)
            if question.type is QuestionType.SINGLE:
                self._answered(draft, question.id, {"other": other})
            else:
                chosen = draft.pending.get(question.id, [])
                order = question.option_keys()
                self._answered(
                    draft, question.id, {"choices": sorted(chosen, key=order.index), "other": other}
                )
        elif question.type is QuestionType.TEXT:
            self._answered(draft, question.id, answering.parse_text(question, text))
        elif question.type is QuestionType.NUMBER:
            self._answered(draft, question.id, answering.parse_number(question, text))
        else:
            raise DomainError(N_("Please answer with the buttons."))
        return await self._save(identity, survey, draft)

    async def skip(self, identity: Identity, survey_id: int, position: int) -> Step:
        survey, draft, step = await self._at(identity, survey_id, position)
        question = step.question
        assert question is not None
        if question.required:
            raise DomainError(N_("This question needs an answer."))
        draft.answers.pop(question.id, None)
        draft.pending.pop(question.id, None)
        draft.skipped.append(question.id)
        draft.other, draft.editing = None, None
        return await self._save(identity, survey, draft)

    async def back(self, identity: Identity, survey_id: int) -> Step:
        """Re-open the previous question (its answer is kept until it is replaced)."""
        survey, draft = await self._context(identity, survey_id)
        step = answering.next_step(survey.definition, draft)
        done = answering.answered_in_order(survey.definition, draft)
        earlier = [
            q
            for q, _ in done
            if step.is_summary or survey.definition.index_of(q.id) < step.position - 1
        ]
        if not earlier:
            return step
        draft.editing, draft.other = earlier[-1].id, None
        return await self._save(identity, survey, draft)

    async def edit(self, identity: Identity, survey_id: int, position: int) -> Step:
        survey, draft = await self._context(identity, survey_id)
        if not 1 <= position <= len(survey.definition.questions):
            raise DomainError(N_("This button is no longer valid."))
        question = survey.definition.questions[position - 1]
        if question.id not in {q.id for q in answering.visible(survey.definition, draft)}:
            raise DomainError(N_("This button is no longer valid."))
        draft.editing, draft.other = question.id, None
        if question.type is QuestionType.MULTI and question.id in draft.answers:
            draft.pending[question.id] = list(draft.answers[question.id].get("choices", []))
        return await self._save(identity, survey, draft)

    async def submit(self, identity: Identity, survey_id: int) -> SurveyInfo:
        survey, draft = await self._context(identity, survey_id)
        step = answering.next_step(survey.definition, draft)
        if not step.is_summary:
            raise StaleQuestion(survey, step)
        member = identity.require_member()
        self._surveys.stage_done(survey.id, member.id)  # checked at commit
        now = self._clock()
        department = member.department or None
        if survey.anonymous and department is not None:
            # Fewer than k people who could answer would single someone out, however big the
            # department's roster: the only registered member of six is alone.
            peers = await self._surveys.can_answer_in_department(
                survey.definition.audience, department
            )
            if peers < self._small_group:
                department = None
        self._surveys.stage_response(
            survey.id,
            member_id=None if survey.anonymous else member.id,
            department=department,
            submitted_on=now.astimezone(self._tz).date(),
            submitted_at=None if survey.anonymous else now,
            answers=_rows(answering.answered_in_order(survey.definition, draft)),
        )
        self._surveys.stage_draft_deletion(survey.id, member.id)
        try:
            await self._repos.commit()
        except WriteConflict:  # finished meanwhile (another tap, another instance): none stored
            raise DomainError(N_("You have already answered this survey. Thank you!")) from None
        return survey


class SurveyUnavailable(DomainError):
    """The survey is closed, gone, or not for this member: nothing more can be answered."""


class StaleQuestion(DomainError):
    """A button of a question that is not the current one: show the current one again."""

    def __init__(self, survey: SurveyInfo, step: Step) -> None:
        super().__init__(N_("That button belongs to another question; here is the current one."))
        self.survey, self.step = survey, step


def _require_officer(actor: Identity | None) -> None:
    if actor is not None and not actor.has(Role.OFFICER):  # None: the CLI or the scheduler
        raise PermissionDenied()


def _in_audience(definition: SurveyDefinition, identity: Identity) -> bool:
    audience = set(definition.audience)
    member = identity.member
    if "all" in audience:
        return True
    roles = {role.value for role in effective_roles(identity.roles)}  # an admin is an officer
    return bool(member and (member.department in audience or roles & audience))


def _rows(answers: Sequence[tuple[Any, Any]]) -> list[AnswerRow]:
    rows: list[AnswerRow] = []
    for question, stored in answers:
        if stored is None:
            continue  # skipped
        qid = question.id
        if question.type is QuestionType.SINGLE:
            if "choice" in stored:
                rows.append(AnswerRow(qid, option=stored["choice"]))
            else:
                rows.append(AnswerRow(qid, option=answering.OTHER, text=stored["other"]))
        elif question.type is QuestionType.MULTI:
            for position, key in enumerate(stored.get("choices", [])):
                rows.append(AnswerRow(qid, position=position, option=key))
            if stored.get("other"):
                rows.append(
                    AnswerRow(
                        qid,
                        position=len(stored.get("choices", [])),
                        option=answering.OTHER,
                        text=stored["other"],
                    )
                )
        elif question.type is QuestionType.TEXT:
            rows.append(AnswerRow(qid, text=stored))
        else:
            rows.append(AnswerRow(qid, number=float(stored)))
    return rows
