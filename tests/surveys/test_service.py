"""SurveyService on a real database: import and the orphan check, opening and invitations,
the scheduled sweep (open, close, remind) with an injected clock, and submission rules."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from common.errors import DomainError, PermissionDenied
from members.dto import Identity
from storage.database import Database
from storage.models import OutboxMessage, Survey, SurveyAnswer, SurveyResponse
from storage.uow import unit_of_work
from surveys.definition import DefinitionError
from surveys.notifications import SURVEY_INVITATION, SURVEY_REMINDER
from surveys.service import SurveyService
from tests.conftest import seed_roster

NOW = datetime(2026, 12, 5, 20, 0, tzinfo=UTC)  # 2026-12-06 04:00 in Shanghai

# 机电学院 has 6 people on the roster (5 of them registered), 外语学院 2, 教务处 1 officer.
ROSTER = [
    ("T1", "张一", "机电学院", ""),
    ("T2", "张二", "机电学院", ""),
    ("T3", "张三", "机电学院", ""),
    ("T4", "张四", "机电学院", ""),
    ("T5", "张五", "机电学院", ""),
    ("T6", "李一", "外语学院", ""),
    ("T7", "李二", "外语学院", ""),
    ("T8", "王官", "教务处", "officer"),
    ("T9", "赵未", "机电学院", ""),  # never registers
]
TELEGRAM = {f"T{i}": 5000 + i for i in range(1, 9)}
LOCALES = {"T6": "en"}

SOURCE = """
id = "{slug}"
title = {{ zh = "食堂满意度", en = "Canteen satisfaction" }}
anonymous = {anonymous}
audience = {audience}
{extra}

[[questions]]
id = "canteen"
type = "single"
text = "最常吃什么？"
options = ["米饭", "面条", "饺子"]
other = true

[[questions]]
id = "overall"
type = "scale"
text = "总体满意度？"

[[questions]]
id = "comment"
type = "text"
text = "其他意见？"
required = false
"""


def source(
    *,
    slug: str = "canteen",
    anonymous: bool = False,
    audience: str = '["all"]',
    extra: str = "",
) -> str:
    return SOURCE.format(
        slug=slug, anonymous=str(anonymous).lower(), audience=audience, extra=extra
    )


class Clock:
    """A settable clock: `clock.now = …` moves time for every service made with it."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


# --- helpers ------------------------------------------------------------------------------------


async def members(database: Database, register: tuple[str, ...] = tuple(TELEGRAM)) -> None:
    """Seed the roster and link Telegram accounts for `register` (by employee id)."""
    await seed_roster(database, ROSTER)
    async with unit_of_work(database.sessions) as repos:
        for employee_id in register:
            member = await repos.members.get_by_employee_id(employee_id)
            assert member is not None
            assert await repos.members.link_telegram(
                member.id,
                TELEGRAM[employee_id],
                locale=LOCALES.get(employee_id, "zh"),
                consent_version=1,
                now=NOW,
            )
        await repos.commit()


async def identity(database: Database, employee_id: str) -> Identity:
    async with unit_of_work(database.sessions) as repos:
        member = await repos.members.get_by_employee_id(employee_id)
    assert member is not None and member.telegram_id is not None
    return Identity(telegram_id=member.telegram_id, member=member, roles=member.roles)


async def member_id(database: Database, employee_id: str) -> int:
    async with unit_of_work(database.sessions) as repos:
        member = await repos.members.get_by_employee_id(employee_id)
    assert member is not None
    return member.id


async def run(database: Database, action: Callable, clock: Callable[[], datetime] | None = None):
    """One unit of work around one service call, as a handler, the CLI or the scheduler does."""
    async with unit_of_work(database.sessions) as repos:
        return await action(SurveyService(repos, clock=clock or Clock()))


async def import_survey(database: Database, text: str, clock=None):
    return await run(database, lambda s: s.import_definition(text, "canteen.toml"), clock)


async def open_survey(database: Database, slug: str = "canteen", clock=None):
    return await run(database, lambda s: s.open(slug), clock)


async def answer(
    database: Database,
    employee_id: str,
    survey_id: int,
    *,
    option: int = 0,
    rating: int = 4,
    clock=None,
) -> None:
    """Answer the three questions (skipping the comment) and submit."""
    who = await identity(database, employee_id)
    await run(database, lambda s: s.begin(who, survey_id), clock)
    await run(database, lambda s: s.choose(who, survey_id, 1, option), clock)
    await run(database, lambda s: s.rate(who, survey_id, 2, rating), clock)
    await run(database, lambda s: s.skip(who, survey_id, 3), clock)
    await run(database, lambda s: s.submit(who, survey_id), clock)


async def outbox(database: Database, template: str | None = None) -> list[OutboxMessage]:
    async with database.sessions() as session:
        statement = select(OutboxMessage).order_by(OutboxMessage.id)
        if template is not None:
            statement = statement.where(OutboxMessage.template == template)
        return list((await session.scalars(statement)).all())


async def responses(database: Database) -> list[SurveyResponse]:
    async with database.sessions() as session:
        return list((await session.scalars(select(SurveyResponse))).all())


async def stored_source(database: Database, slug: str = "canteen") -> str:
    async with database.sessions() as session:
        definition = await session.scalar(select(Survey.definition).where(Survey.slug == slug))
    assert definition is not None
    return definition


async def status(database: Database, slug: str = "canteen") -> str:
    async with database.sessions() as session:
        value = await session.scalar(select(Survey.status).where(Survey.slug == slug))
    assert value is not None
    return value


def without(text: str, question_id: str) -> str:
    """The source without one [[questions]] block."""
    head, rest = text.split(f'[[questions]]\nid = "{question_id}"')
    following = rest.split("[[questions]]", 1)
    return head + ("[[questions]]" + following[1] if len(following) == 2 else "")


def retype(text: str, question_id: str, kind: str) -> str:
    return re.sub(rf'(id = "{question_id}"\ntype = )"\w+"', rf'\g<1>"{kind}"', text, count=1)


# --- import -------------------------------------------------------------------------------------


async def test_import_stores_the_definition(database):
    survey, created = await import_survey(database, source(extra='description = "说明"'))
    assert created
    assert survey.slug == "canteen" and survey.status == "draft"
    assert survey.definition.title.get("en") == "Canteen satisfaction"
    assert [q.id for q in survey.definition.questions] == ["canteen", "overall", "comment"]
    assert await stored_source(database) == source(extra='description = "说明"')

    again, created = await import_survey(database, source())
    assert not created and again.id == survey.id
    listed = await run(database, lambda s: s.list())
    assert [(s.id, s.slug) for s in listed] == [(survey.id, "canteen")]
    assert (await run(database, lambda s: s.by_slug("canteen"))).definition.description is None


async def test_an_invalid_definition_stores_nothing(database):
    with pytest.raises(DefinitionError):
        await import_survey(database, source().replace('type = "scale"', 'type = "stars"'))
    assert await run(database, lambda s: s.list()) == []


async def test_import_stores_times_in_the_union_zone(database):
    survey, _ = await import_survey(
        database, source(extra="opens_at = 2026-12-01T09:00:00\ncloses_at = 2026-12-08")
    )
    async with database.sessions() as session:
        row = await session.scalar(select(Survey).where(Survey.id == survey.id))
    assert row.opens_at == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    assert row.closes_at == datetime(2026, 12, 7, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "change",
    [
        lambda s: retype(s, "overall", "nps"),
        lambda s: s.replace('id = "overall"', 'id = "score"'),
        lambda s: without(s, "overall"),
        lambda s: s.replace('"米饭", "面条"', '"面条"'),
        lambda s: s.replace("anonymous = false", "anonymous = true"),
        lambda s: s.replace("other = true", "other = false"),
    ],
    ids=["change type", "rename", "remove", "remove option", "flip anonymous", "drop other"],
)
async def test_reimport_without_answers_may_change_anything(database, change):
    await members(database)
    survey, _ = await import_survey(database, source())
    await open_survey(database)
    who = await identity(database, "T1")
    await run(database, lambda s: s.begin(who, survey.id))
    await run(database, lambda s: s.choose(who, survey.id, 1, 0))  # a draft is no response

    changed = change(source())
    assert changed != source()
    _, created = await import_survey(database, changed)
    assert not created
    assert await stored_source(database) == changed


async def answered_survey(database, *, anonymous: bool = False):
    """A survey with one response: canteen=米饭, overall=4, comment skipped."""
    await members(database)
    survey, _ = await import_survey(database, source(anonymous=anonymous))
    await open_survey(database)
    await answer(database, "T1", survey.id, option=0, rating=4)
    return survey


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda s: s.replace('id = "overall"', 'id = "score"'),
            "question 'overall' has answers and cannot be removed or renamed",
        ),
        (
            lambda s: without(s, "overall"),
            "question 'overall' has answers and cannot be removed or renamed",
        ),
        (
            lambda s: without(s, "canteen"),
            "question 'canteen' has answers and cannot be removed or renamed",
        ),
        (
            lambda s: retype(s, "overall", "nps"),
            "question 'overall' has answers; its type cannot change",
        ),
        (
            lambda s: retype(s, "canteen", "multi"),
            "question 'canteen' has answers; its type cannot change",
        ),
        (
            lambda s: s.replace('["米饭", "面条", "饺子"]', '["面条", "饺子"]'),
            "question 'canteen': option '米饭' has answers and cannot be removed or renamed",
        ),
        (
            lambda s: s.replace('["米饭", "面条", "饺子"]', '["大米饭", "面条", "饺子"]'),
            "question 'canteen': option '米饭' has answers and cannot be removed or renamed",
        ),
        (
            lambda s: s.replace("anonymous = false", "anonymous = true"),
            "'anonymous' cannot change",
        ),
    ],
    ids=[
        "rename question",
        "remove question",
        "remove first question",
        "change type",
        "single to multi",
        "remove option",
        "rename option",
        "flip anonymous",
    ],
)
async def test_reimport_refuses_changes_that_orphan_answers(database, change, message):
    survey = await answered_survey(database)
    changed = change(source())
    assert changed != source()
    with pytest.raises(DefinitionError) as caught:
        await import_survey(database, changed)
    (problem,) = caught.value.problems
    assert problem.startswith(f"canteen.toml: {message}"), problem
    assert await stored_source(database) == source()  # the old definition remains
    still = await run(database, lambda s: s.get(survey.id))
    assert [q.id for q in still.definition.questions] == ["canteen", "overall", "comment"]
    assert still.anonymous is False


async def test_flipping_anonymous_back_is_refused_too(database):
    await answered_survey(database, anonymous=True)
    with pytest.raises(DefinitionError, match="'anonymous' cannot change"):
        await import_survey(database, source(anonymous=False))
    assert await stored_source(database) == source(anonymous=True)


async def test_every_orphaning_change_is_reported_together(database):
    await answered_survey(database)
    changed = (
        source(anonymous=True)
        .replace('id = "overall"', 'id = "score"')
        .replace('["米饭", "面条", "饺子"]', '["面条", "饺子"]')
    )
    with pytest.raises(DefinitionError) as caught:
        await import_survey(database, changed)
    assert len(caught.value.problems) == 3


async def test_the_other_choice_cannot_be_dropped_once_chosen(database):
    await members(database)
    survey, _ = await import_survey(database, source())
    await open_survey(database)
    who = await identity(database, "T1")
    await run(database, lambda s: s.begin(who, survey.id))
    await run(database, lambda s: s.choose(who, survey.id, 1, -1))  # "other"
    await run(database, lambda s: s.type_in(who, survey.id, "粥"))
    await run(database, lambda s: s.rate(who, survey.id, 2, 3))
    await run(database, lambda s: s.skip(who, survey.id, 3))
    await run(database, lambda s: s.submit(who, survey.id))

    with pytest.raises(DefinitionError, match="option 'other' has answers"):
        await import_survey(database, source().replace("other = true", "other = false"))


async def test_reimport_with_answers_allows_compatible_changes(database):
    survey = await answered_survey(database)
    changed = (
        source()
        .replace('"饺子"]', '"饺子", "包子"]')  # a new option
        .replace('["米饭", "面条", "饺子"', '["米饭", "饺子"')  # an unanswered option goes
        .replace("总体满意度？", "您对食堂的总体满意度？")  # new wording
        .replace('"其他意见？"', '"其他意见？"\nshow_if = "overall <= 2"')
        + '\n[[questions]]\nid = "visits"\ntype = "number"\ntext = "每周几次？"\nrequired = false\n'
    )
    updated, created = await import_survey(database, changed)
    assert not created and updated.id == survey.id
    assert await stored_source(database) == changed
    assert updated.definition.question("canteen").option_keys() == ["米饭", "饺子", "包子"]
    assert [q.id for q in updated.definition.questions][-1] == "visits"


async def test_flipping_anonymous_is_refused_once_a_response_exists_even_if_all_skipped(database):
    # The check looks at answer rows only: a response that skipped every question leaves none,
    # so the named response (member id, exact time) would then sit in an "anonymous" survey.
    optional = source().replace('type = "single"', 'type = "single"\nrequired = false')
    optional = optional.replace('type = "scale"', 'type = "scale"\nrequired = false')
    await members(database)
    survey, _ = await import_survey(database, optional)
    await open_survey(database)
    who = await identity(database, "T1")
    for position in (1, 2, 3):
        await run(database, lambda s, p=position: s.skip(who, survey.id, p))
    await run(database, lambda s: s.submit(who, survey.id))
    assert len(await responses(database)) == 1

    with pytest.raises(DefinitionError, match="'anonymous' cannot change"):
        await import_survey(database, optional.replace("anonymous = false", "anonymous = true"))


# --- open ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("audience", "invited"),
    [
        ('["all"]', ["T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8"]),
        ('["机电学院"]', ["T1", "T2", "T3", "T4", "T5"]),
        ('["外语学院"]', ["T6", "T7"]),
        ('["officer"]', ["T8"]),
        ('["外语学院", "officer"]', ["T6", "T7", "T8"]),
        ('["档案馆"]', []),
    ],
)
async def test_open_invites_the_registered_audience_once_each(database, audience, invited):
    await members(database)
    survey, _ = await import_survey(database, source(audience=audience, anonymous=True))
    outcome = await open_survey(database)
    assert outcome.survey.status == "open" and outcome.survey.opened_at is not None
    assert outcome.invited == len(invited)

    rows = await outbox(database)
    assert sorted(r.chat_id for r in rows) == sorted(TELEGRAM[e] for e in invited)
    assert {r.template for r in rows} <= {SURVEY_INVITATION}
    assert {r.broadcast_id for r in rows} <= {outcome.broadcast_id}
    for row in rows:
        employee_id = next(e for e, t in TELEGRAM.items() if t == row.chat_id)
        assert row.idempotency_key == (
            f"survey:{survey.id}:invite:{await member_id(database, employee_id)}"
        )
        assert row.locale == LOCALES.get(employee_id, "zh")
        assert json.loads(row.params) == {
            "survey_id": survey.id,
            "title": {"zh": "食堂满意度", "en": "Canteen satisfaction"},
            "anonymous": True,
            "closes": None,
        }


async def test_unregistered_members_are_not_invited(database):
    await members(database, register=("T1", "T6"))
    await import_survey(database, source())
    outcome = await open_survey(database)
    assert outcome.invited == 2
    assert sorted(r.chat_id for r in await outbox(database)) == [TELEGRAM["T1"], TELEGRAM["T6"]]


async def test_the_invitation_names_the_closing_time_in_the_union_zone(database):
    await members(database, register=("T1",))
    await import_survey(database, source(extra="closes_at = 2026-12-08T10:00:00Z"))
    await open_survey(database)
    (row,) = await outbox(database)
    assert json.loads(row.params)["closes"] == "2026-12-08 18:00"


async def test_opening_twice_is_refused_and_queues_nothing(database):
    await members(database)
    await import_survey(database, source())
    await open_survey(database)
    before = len(await outbox(database))
    with pytest.raises(DomainError, match="already open"):
        await open_survey(database)
    assert len(await outbox(database)) == before == 8


async def test_only_officers_may_open_or_close(database):
    await members(database)
    await import_survey(database, source())
    member, officer = await identity(database, "T1"), await identity(database, "T8")
    with pytest.raises(PermissionDenied):
        await run(database, lambda s: s.open("canteen", actor=member))
    assert await status(database) == "draft" and await outbox(database) == []
    await run(database, lambda s: s.open("canteen", actor=officer))
    with pytest.raises(PermissionDenied):
        await run(database, lambda s: s.close("canteen", actor=member))
    closed = await run(database, lambda s: s.close("canteen", actor=officer))
    assert closed.status == "closed" and closed.closed_at == NOW
    with pytest.raises(DomainError, match="already closed"):
        await run(database, lambda s: s.close("canteen"))


async def test_opening_an_unknown_survey(database):
    with pytest.raises(DomainError, match="There is no survey"):
        await open_survey(database, "nope")


# --- sweep --------------------------------------------------------------------------------------


async def sweep(database: Database, clock: Clock) -> dict[str, int]:
    return await run(database, lambda s: s.sweep(), clock)


async def test_sweep_opens_a_draft_whose_opens_at_passed(database):
    await members(database)
    clock = Clock(datetime(2026, 12, 1, 0, 59, tzinfo=UTC))
    await import_survey(database, source(extra="opens_at = 2026-12-01T09:00:00"))  # 01:00 UTC
    assert await sweep(database, clock) == {"opened": 0, "closed": 0, "reminded": 0}
    assert await status(database) == "draft" and await outbox(database) == []

    clock.now = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    assert await sweep(database, clock) == {"opened": 1, "closed": 0, "reminded": 0}
    assert await status(database) == "open"
    assert len(await outbox(database, SURVEY_INVITATION)) == 8

    clock.now += timedelta(minutes=1)
    assert await sweep(database, clock) == {"opened": 0, "closed": 0, "reminded": 0}
    assert len(await outbox(database)) == 8


async def test_sweep_leaves_a_draft_without_opens_at_alone(database):
    await members(database)
    await import_survey(database, source())
    assert await sweep(database, Clock()) == {"opened": 0, "closed": 0, "reminded": 0}
    assert await status(database) == "draft"


async def test_sweep_closes_at_closes_at(database):
    await members(database)
    await import_survey(database, source(extra="closes_at = 2026-12-08T18:00:00"))  # 10:00 UTC
    await open_survey(database)
    clock = Clock(datetime(2026, 12, 8, 9, 59, tzinfo=UTC))
    assert (await sweep(database, clock))["closed"] == 0
    assert await status(database) == "open"

    clock.now = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
    assert (await sweep(database, clock))["closed"] == 1
    assert await status(database) == "closed"
    assert (await sweep(database, clock))["closed"] == 0  # already closed


async def test_sweep_closes_a_draft_whose_whole_window_passed_without_inviting(database):
    await members(database)
    await import_survey(
        database,
        source(extra="opens_at = 2026-12-01T09:00:00\ncloses_at = 2026-12-02T09:00:00"),
    )
    counts = await sweep(database, Clock(datetime(2026, 12, 3, tzinfo=UTC)))
    assert counts == {"opened": 0, "closed": 1, "reminded": 0}
    assert await status(database) == "closed" and await outbox(database) == []


async def reminders_for(database: Database) -> dict[str, list[int]]:
    """{employee id: [offset seconds of each reminder queued for them]}."""
    by_chat = {t: e for e, t in TELEGRAM.items()}
    result: dict[str, list[int]] = {}
    for row in await outbox(database, SURVEY_REMINDER):
        offset = int(row.idempotency_key.split(":")[3])
        result.setdefault(by_chat[row.chat_id], []).append(offset)
    return result


CLOSES = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)  # 18:00 in Shanghai
REMINDING = 'closes_at = 2026-12-08T18:00:00+08:00\nreminders = ["3d", "1d", "2h"]'


async def test_sweep_reminds_those_who_have_not_finished(database):
    await members(database)
    survey, _ = await import_survey(
        database, source(audience='["机电学院", "外语学院"]', extra=REMINDING)
    )
    clock = Clock(CLOSES - timedelta(days=5))
    await open_survey(database, clock=clock)
    await answer(database, "T1", survey.id, clock=clock)
    await answer(database, "T6", survey.id, clock=clock)
    who = await identity(database, "T2")  # started but not finished: still reminded
    await run(database, lambda s: s.begin(who, survey.id), clock)

    clock.now = CLOSES - timedelta(days=3, seconds=1)  # not yet
    assert (await sweep(database, clock))["reminded"] == 0

    clock.now = CLOSES - timedelta(days=3)
    assert (await sweep(database, clock))["reminded"] == 5
    three_days = 3 * 24 * 3600
    assert await reminders_for(database) == {
        e: [three_days] for e in ("T2", "T3", "T4", "T5", "T7")
    }
    rows = await outbox(database, SURVEY_REMINDER)
    assert {r.template for r in rows} == {SURVEY_REMINDER}
    assert rows[0].idempotency_key == (
        f"survey:{survey.id}:reminder:{three_days}:{await member_id(database, 'T2')}"
    )
    params = json.loads(rows[0].params)
    assert params["survey_id"] == survey.id and params["closes"] == "2026-12-08 18:00"

    # Running again, now or a little later, queues nothing new.
    assert (await sweep(database, clock))["reminded"] == 0
    clock.now += timedelta(hours=5)
    assert (await sweep(database, clock))["reminded"] == 0
    assert len(await outbox(database, SURVEY_REMINDER)) == 5

    # T3 finishes; the next reminder goes to the four left.
    await answer(database, "T3", survey.id, clock=clock)
    clock.now = CLOSES - timedelta(days=1)
    assert (await sweep(database, clock))["reminded"] == 4
    assert (await sweep(database, clock))["reminded"] == 0
    reminded = await reminders_for(database)
    assert reminded["T3"] == [three_days]
    assert reminded["T2"] == [three_days, 24 * 3600]
    assert "T1" not in reminded and "T6" not in reminded and "T8" not in reminded


async def test_a_late_sweep_sends_only_the_latest_due_reminder(database):
    await members(database)
    await import_survey(database, source(extra=REMINDING))
    clock = Clock(CLOSES - timedelta(days=10))
    await open_survey(database, clock=clock)

    clock.now = CLOSES - timedelta(hours=1)  # down since before the 3d reminder
    assert await sweep(database, clock) == {"opened": 0, "closed": 0, "reminded": 8}
    assert await reminders_for(database) == {e: [2 * 3600] for e in TELEGRAM}
    assert (await sweep(database, clock))["reminded"] == 0

    clock.now = CLOSES
    assert (await sweep(database, clock))["closed"] == 1
    assert len(await outbox(database, SURVEY_REMINDER)) == 8


async def test_a_sweep_between_two_offsets_sends_the_earlier_one(database):
    await members(database, register=("T1",))
    await import_survey(database, source(extra=REMINDING))
    clock = Clock(CLOSES - timedelta(days=10))
    await open_survey(database, clock=clock)
    clock.now = CLOSES - timedelta(hours=12)  # 3d and 1d are due, 2h is not
    await sweep(database, clock)
    assert await reminders_for(database) == {"T1": [24 * 3600]}


async def test_no_reminder_is_due_from_before_the_survey_opened(database):
    # Opened 12 hours before closing with a "1d" reminder: that reminder's moment passed
    # before anyone was invited, so the next sweep (a minute after the invitations) should
    # not send it on top of the invitation.
    await members(database, register=("T1",))
    await import_survey(
        database,
        source(
            extra="opens_at = 2026-12-08T06:00:00+08:00\n"
            'closes_at = 2026-12-08T18:00:00+08:00\nreminders = ["1d", "2h"]'
        ),
    )
    clock = Clock(CLOSES - timedelta(hours=12))
    assert (await sweep(database, clock))["opened"] == 1
    clock.now += timedelta(minutes=1)
    assert (await sweep(database, clock))["reminded"] == 0
    clock.now = CLOSES - timedelta(hours=2)
    assert (await sweep(database, clock))["reminded"] == 1
    assert await reminders_for(database) == {"T1": [2 * 3600]}


async def test_no_reminders_for_a_draft_or_without_reminders(database):
    await members(database)
    await import_survey(database, source(extra="closes_at = 2026-12-08T18:00:00+08:00"))
    await import_survey(database, source(slug="later", extra=REMINDING))  # never opened
    await open_survey(database)
    clock = Clock(CLOSES - timedelta(hours=1))
    assert await sweep(database, clock) == {"opened": 0, "closed": 0, "reminded": 0}
    assert await outbox(database, SURVEY_REMINDER) == []


# --- answering and submitting -------------------------------------------------------------------


async def test_a_named_response_keeps_member_department_and_time(database):
    await members(database)
    survey, _ = await import_survey(database, source())
    await open_survey(database)
    await answer(database, "T6", survey.id, option=1, rating=5)
    (response,) = await responses(database)
    assert response.member_id == await member_id(database, "T6")
    assert response.department == "外语学院"  # named: no small-group rule
    assert response.submitted_at == NOW
    assert response.submitted_on == date(2026, 12, 6)  # the day in Shanghai
    async with database.sessions() as session:
        answers = (
            await session.execute(
                select(SurveyAnswer.question_id, SurveyAnswer.option, SurveyAnswer.number)
                .where(SurveyAnswer.response_id == response.id)
                .order_by(SurveyAnswer.question_id)
            )
        ).all()
    assert answers == [("canteen", "面条", None), ("overall", None, 5.0)]


async def test_an_anonymous_response_keeps_a_large_department_only(database):
    await members(database)
    survey, _ = await import_survey(database, source(anonymous=True))
    await open_survey(database)
    await answer(database, "T1", survey.id)  # 机电学院: 6 on the roster, 5 registered
    await answer(database, "T6", survey.id)  # 外语学院: 2
    await answer(database, "T8", survey.id)  # 教务处: 1
    rows = await responses(database)
    assert sorted(r.department or "" for r in rows) == ["", "", "机电学院"]
    for response in rows:
        assert response.member_id is None
        assert response.submitted_at is None
        assert response.submitted_on == date(2026, 12, 6)


# 机电学院 has 6 people on the roster but 5 who can answer: the 5 are what the rule counts.
@pytest.mark.parametrize(("small_group", "kept"), [(5, "机电学院"), (6, None)])
async def test_the_small_group_threshold_is_inclusive(database, small_group, kept):
    await members(database)
    survey, _ = await import_survey(database, source(anonymous=True))
    await open_survey(database)
    who = await identity(database, "T1")
    for call in (
        lambda s: s.begin(who, survey.id),
        lambda s: s.choose(who, survey.id, 1, 0),
        lambda s: s.rate(who, survey.id, 2, 3),
        lambda s: s.skip(who, survey.id, 3),
    ):
        await run(database, call)
    async with unit_of_work(database.sessions) as repos:
        await SurveyService(repos, small_group=small_group, clock=Clock()).submit(who, survey.id)
    (response,) = await responses(database)
    assert response.department == kept


@pytest.mark.parametrize("anonymous", [False, True])
async def test_one_response_per_member(database, anonymous):
    await members(database)
    survey, _ = await import_survey(database, source(anonymous=anonymous))
    await open_survey(database)
    await answer(database, "T1", survey.id)
    who = await identity(database, "T1")
    with pytest.raises(DomainError, match="already answered"):
        await run(database, lambda s: s.submit(who, survey.id))
    with pytest.raises(DomainError, match="already answered"):
        await run(database, lambda s: s.begin(who, survey.id))
    with pytest.raises(DomainError, match="already answered"):
        await answer(database, "T1", survey.id)
    assert len(await responses(database)) == 1
    state = await run(database, lambda s: s.status_for(who, survey.id))
    assert state[1] == "done"


@pytest.mark.parametrize("anonymous", [False, True])
async def test_two_submits_at_once_store_one_response(database, anonymous):
    await members(database)
    survey, _ = await import_survey(database, source(anonymous=anonymous))
    await open_survey(database)
    who = await identity(database, "T1")
    for call in (
        lambda s: s.begin(who, survey.id),
        lambda s: s.choose(who, survey.id, 1, 0),
        lambda s: s.rate(who, survey.id, 2, 3),
        lambda s: s.skip(who, survey.id, 3),
    ):
        await run(database, call)

    outcomes = await asyncio.gather(
        run(database, lambda s: s.submit(who, survey.id)),
        run(database, lambda s: s.submit(who, survey.id)),
        return_exceptions=True,
    )
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(errors) == 1 and isinstance(errors[0], DomainError), outcomes
    assert len(await responses(database)) == 1
    async with database.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(SurveyAnswer)) == 2


async def test_answering_a_closed_survey_is_refused(database):
    await members(database)
    survey, _ = await import_survey(database, source())
    await open_survey(database)
    who = await identity(database, "T1")
    await run(database, lambda s: s.begin(who, survey.id))
    await run(database, lambda s: s.choose(who, survey.id, 1, 0))
    await run(database, lambda s: s.close("canteen"))

    for call in (
        lambda s: s.begin(who, survey.id),
        lambda s: s.current(who, survey.id),
        lambda s: s.rate(who, survey.id, 2, 3),
        lambda s: s.type_in(who, survey.id, "3"),
        lambda s: s.back(who, survey.id),
        lambda s: s.submit(who, survey.id),
        lambda s: s.status_for(who, survey.id),
    ):
        with pytest.raises(DomainError, match="closed"):
            await run(database, call)
    assert await responses(database) == []
    assert await run(database, lambda s: s.available(who)) == []


async def test_answering_a_draft_survey_is_refused(database):
    await members(database)
    survey, _ = await import_survey(database, source())
    who = await identity(database, "T1")
    with pytest.raises(DomainError, match="closed"):
        await run(database, lambda s: s.begin(who, survey.id))


async def test_members_outside_the_audience_cannot_answer(database):
    await members(database)
    survey, _ = await import_survey(database, source(audience='["外语学院", "officer"]'))
    await open_survey(database)
    outsider = await identity(database, "T1")
    with pytest.raises(DomainError, match="not meant for you"):
        await run(database, lambda s: s.begin(outsider, survey.id))
    assert await run(database, lambda s: s.available(outsider)) == []
    officer = await identity(database, "T8")
    assert [(s.id, state) for s, state in await run(database, lambda s: s.available(officer))] == [
        (survey.id, "new")
    ]


async def test_submitting_before_the_last_question_is_refused(database):
    await members(database)
    survey, _ = await import_survey(database, source())
    await open_survey(database)
    who = await identity(database, "T1")
    await run(database, lambda s: s.begin(who, survey.id))
    await run(database, lambda s: s.choose(who, survey.id, 1, 0))
    with pytest.raises(DomainError):
        await run(database, lambda s: s.submit(who, survey.id))
    with pytest.raises(DomainError, match="needs an answer"):
        await run(database, lambda s: s.skip(who, survey.id, 2))
    assert await responses(database) == []


async def test_reimport_refuses_a_range_that_would_exclude_given_answers(database):
    from storage.uow import Repositories
    from surveys.model import AnswerRow

    source = """
id = "r"
title = "范围"

[[questions]]
id = "score"
type = "scale"
text = "打分"
min = 1
max = 5
"""
    async with database.sessions() as session:
        repos = Repositories(session)
        survey, _ = await SurveyService(repos).import_definition(source, "r.toml")
        await repos.surveys.add_response(
            survey.id,
            member_id=None,
            department=None,
            submitted_on=datetime(2026, 12, 1).date(),
            submitted_at=None,
            answers=[AnswerRow("score", number=5.0)],
        )
        await repos.commit()
        with pytest.raises(DefinitionError) as refused:
            await SurveyService(repos).import_definition(
                source.replace("max = 5", "max = 4"), "r.toml"
            )
        assert "answers from 5 to 5" in str(refused.value)
        await SurveyService(repos).import_definition(source.replace("max = 5", "max = 7"), "r.toml")


async def test_the_small_group_counts_the_audience_not_the_department(database):
    # Six registered in 机电学院, one of them an officer; an officers-only survey can be answered
    # by that one alone there, so her department would name her.
    await seed_roster(
        database,
        [("X1", "干部甲", "机电学院", "officer")]
        + [(f"X{i}", f"会员{i}", "机电学院", "") for i in range(2, 7)],
    )
    async with unit_of_work(database.sessions) as repos:
        for i in range(1, 7):
            member = await repos.members.get_by_employee_id(f"X{i}")
            assert member is not None
            await repos.members.link_telegram(
                member.id, 6000 + i, locale="zh", consent_version=1, now=NOW
            )
        await repos.commit()
    survey, _ = await import_survey(database, source(anonymous=True, audience='["officer"]'))
    await open_survey(database)
    await answer(database, "X1", survey.id)
    (response,) = await responses(database)
    assert response.department is None
