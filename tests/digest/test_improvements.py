"""The improvement loop: officers open actions from what members said; the effect is measured
on the survey that ran again; closing tells linked members once ("you said, we did") — never
the anonymous; reminders and escalation like proposals; the export."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from common.errors import DomainError, PermissionDenied
from improvements.export import export_actions
from improvements.model import ActionStatus, Link, LinkKind
from improvements.service import ActionDraft, ImprovementService
from proposals.service import ProposalService, ProposalSettings
from storage.models import OutboxMessage
from storage.uow import Repositories
from surveys.service import SurveyService
from tests.digest.world import (
    NOW,
    TELEGRAM,
    W47_DAY,
    W48_DAY,
    add_survey,
    answer,
    file_suggestion,
    make_world,
)

DRAFT = ActionDraft(
    problem="食堂午餐排队时间长\n高峰期窗口不足",
    cause="高峰期只开放两个窗口",
    measures="增开两个窗口，错峰就餐",
    owner="H1",
    due_on=date(2026, 12, 20),
    expected_effect="排队不超过10分钟",
)


@pytest.fixture
async def world(database):
    async with database.sessions() as session:
        yield await make_world(database, Repositories(session))


def service(world) -> ImprovementService:
    return ImprovementService(world.repos, clock=world.clock, surveys=SurveyService(world.repos))


async def _notices(world, template: str) -> dict[int, dict]:
    rows = await world.repos.session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == template)
    )
    return {row.chat_id: json.loads(row.params) for row in rows}


async def test_lifecycle_evidence_and_you_said_we_did(world) -> None:
    named = await add_survey(world, "canteen-2026q4")
    anonymous = await add_survey(world, "canteen-anon", anonymous=True)
    await answer(world, named, W47_DAY, 2, member="M2", department=None)
    await answer(world, named, W47_DAY, 3, member="R1", department=None)
    await answer(world, anonymous, W47_DAY, 1)  # an anonymous answer: nobody to tell
    proposal = await file_suggestion(world, "M1", "食堂排队", "太久", NOW - timedelta(days=2))
    await ProposalService(world.repos, ProposalSettings()).cosign(world.people["R1"], proposal)

    officer, member = world.people["O1"], world.people["M1"]
    links = [
        Link(LinkKind.PROPOSAL, proposal),
        Link(LinkKind.QUESTION, named, "food"),
        Link(LinkKind.QUESTION, anonymous, "food"),
    ]
    with pytest.raises(PermissionDenied):
        await service(world).open(member, DRAFT, links)
    action = await service(world).open(officer, DRAFT, links)
    assert action.status is ActionStatus.OPEN
    assert (action.owner, action.department) == ("承办戊", "后勤处")  # employee id → member
    assert action.title == "食堂午餐排队时间长"
    assert [link.baseline for link in action.links] == [None, 2.5, 1.0]

    # The owner works on it; an unrelated member may not.
    with pytest.raises(PermissionDenied):
        await service(world).start(member, action.id)
    await service(world).start(world.people["H1"], action.id)
    with pytest.raises(DomainError):
        await service(world).close(officer, action.id)  # no effect recorded yet

    # The survey runs again (a later survey, same question id): the effect is measured.
    world.clock.now = NOW + timedelta(days=30)
    rerun = await add_survey(world, "canteen-2027q1", opened=NOW + timedelta(days=20))
    for score in (4, 5):
        await answer(world, rerun, date(2026, 12, 25), score)
    evidence = await service(world).measure(action.id)
    assert [(e.before, e.after, e.after_survey_id) for e in evidence] == [
        (2.5, 4.5, rerun),
        (1.0, 4.5, rerun),
    ]
    done = await service(world).record_effect(world.people["H1"], action.id, "排队降到8分钟")
    assert done.status is ActionStatus.CHECKING and done.evidence[0].after == 4.5

    closed, told = await service(world).close(officer, action.id)
    assert closed.status is ActionStatus.CLOSED and closed.closed_at is not None
    notices = await _notices(world, "improvement.done")
    # proposer, co-signer (also a named respondent: told once), the other named respondent
    assert set(notices) == {TELEGRAM["M1"], TELEGRAM["R1"], TELEGRAM["M2"]} and told == 3
    assert notices[TELEGRAM["M1"]]["effect"] == "排队降到8分钟"
    # Closing again is refused and tells nobody twice.
    with pytest.raises(DomainError):
        await service(world).close(officer, action.id)
    assert len(await _notices(world, "improvement.done")) == 3


async def test_dropped_actions_tell_nobody_and_need_a_reason(world) -> None:
    proposal = await file_suggestion(world, "M1", "停车", "车位不够", NOW - timedelta(days=1))
    officer = world.people["O1"]
    action = await service(world).open(officer, DRAFT, [Link(LinkKind.PROPOSAL, proposal)])
    with pytest.raises(DomainError):
        await service(world).drop(officer, action.id, "  ")
    dropped = await service(world).drop(officer, action.id, "已并入学校总体规划")
    assert dropped.status is ActionStatus.DROPPED and dropped.reason
    assert await _notices(world, "improvement.done") == {}


async def test_owner_can_be_a_department_and_due_dates_are_checked(world) -> None:
    officer = world.people["O1"]
    past = ActionDraft("问题", "", "", "教务处", date(2026, 11, 1), "")
    with pytest.raises(DomainError):
        await service(world).open(officer, past, [])
    action = await service(world).open(officer, ActionDraft("问题", "", "", "教务处", None, ""), [])
    assert (action.owner, action.owner_id, action.department) == ("教务处", None, "教务处")


async def test_reminders_then_officers_then_the_chair(world) -> None:
    officer = world.people["O1"]
    due = NOW.date() + timedelta(days=3)
    action = await service(world).open(officer, ActionDraft("问题", "", "", "后勤处", due, ""), [])
    assert (await service(world).sweep())["reminded"] == 1  # the department's handler
    assert (await service(world).sweep())["reminded"] == 0  # idempotent
    world.clock.now = NOW + timedelta(days=4)
    assert (await service(world).sweep())["overdue"] == 1  # one officer
    world.clock.now = NOW + timedelta(days=12)
    assert (await service(world).sweep())["escalated"] == 1  # the chair
    reminders = await _notices(world, "improvement.due_soon")
    assert (
        set(reminders) == {TELEGRAM["H1"]} and reminders[TELEGRAM["H1"]]["action_id"] == action.id
    )
    assert set(await _notices(world, "improvement.overdue")) == {TELEGRAM["O1"], TELEGRAM["Z1"]}


async def test_export_csv_and_xlsx(world) -> None:
    officer = world.people["O1"]
    await service(world).open(officer, DRAFT, [Link(LinkKind.THEME, 1, "食堂")])
    await service(world).open(officer, ActionDraft("=cmd|' /C calc'!A0", "", "", "", None, ""), [])
    out = io.BytesIO()
    assert await export_actions(world.repos, "csv", out) == 2
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    assert rows[0][:4] == ["编号", "问题", "原因分析", "改进措施"]
    assert rows[1][11] == "theme:1/食堂" and rows[1][10] == "已立项"
    assert rows[2][1].startswith("'=")  # never a formula
    out = io.BytesIO()
    assert await export_actions(world.repos, "xlsx", out) == 2
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    assert sheet.cell(3, 2).value == "=cmd|' /C calc'!A0" and sheet.cell(3, 2).data_type == "s"


async def test_digest_lists_actions_until_closed(world) -> None:
    from digest.period import Period
    from digest.sections.base import OFFICERS
    from digest.service import DigestService

    officer = world.people["O1"]
    world.clock.now = datetime(2026, 11, 24, 2, tzinfo=UTC)  # during W48
    action = await service(world).open(officer, DRAFT, [])
    digests = DigestService(world.repos, clock=world.clock)
    w48 = (await digests.compute(Period(2026, 48), OFFICERS))["sections"]["actions"]
    assert (w48["opened"], w48["unfinished"]) == (1, 1)
    assert [item["id"] for item in w48["open_items"]] == [action.id]
    world.clock.now = datetime(2026, 12, 2, 2, tzinfo=UTC)  # during W49
    await service(world).record_effect(officer, action.id, "好了")
    await service(world).close(officer, action.id)
    w49 = (await digests.compute(Period(2026, 49), OFFICERS))["sections"]["actions"]
    assert (w49["opened"], w49["opened_previous"], w49["closed"]) == (0, 1, 1)
    assert w49["open_items"] == [] and w49["closed_items"][0]["effect"] == "好了"
    assert W48_DAY  # the world's week
