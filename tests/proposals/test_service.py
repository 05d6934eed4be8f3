"""The proposal lifecycle with several people: proposer, co-signers, officer, handler."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from common.errors import DomainError, PermissionDenied
from members.dto import Identity
from members.roles import Role
from members.service import MembershipService
from proposals.model import Kind, Rating, Status
from proposals.service import ProposalMoved, ProposalService, ProposalSettings
from storage.models import OutboxMessage
from storage.uow import Repositories
from tests.conftest import seed_roster

ROSTER = [
    ("P1", "代表甲", "机电学院", "representative"),
    ("C1", "会员乙", "机电学院", ""),
    ("C2", "会员丙", "外语学院", ""),
    ("O1", "干部丁", "工会办公室", "officer"),
    ("H1", "承办戊", "后勤处", "handler"),
    ("H2", "承办己", "教务处", "handler"),
    ("Z1", "主席庚", "工会办公室", "chair"),
]
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def world(database):
    await seed_roster(database, ROSTER)
    async with database.sessions() as session:
        repos = Repositories(session)
        people = {}
        for number, (employee_id, *_rest) in enumerate(ROSTER):
            member = await repos.members.get_by_employee_id(employee_id)
            assert member is not None
            await repos.members.link_telegram(
                member.id, 6000 + number, locale="zh", consent_version=1, now=NOW
            )
            await repos.commit()
            people[employee_id] = await MembershipService(repos).identify(6000 + number)
        clock = Clock()
        yield ProposalService(repos, ProposalSettings(), clock=clock), people, repos, clock


async def file_proposal(service: ProposalService, proposer: Identity) -> int:
    proposal_id = await service.start(proposer, Kind.PROPOSAL, "后勤服务")
    await service.set_title(proposer, proposal_id, "食堂延长营业时间")
    await service.add_text(proposer, proposal_id, "晚上加班的老师吃不上饭。")
    await service.add_text(proposer, proposal_id, "建议营业到 20:00。")
    await service.attach(proposer, proposal_id, "photo", "file-1", None)
    return proposal_id


async def notices(repos: Repositories, template: str) -> list[tuple[int, str]]:
    rows = await repos.session.execute(
        select(OutboxMessage.chat_id, OutboxMessage.params)
        .where(OutboxMessage.template == template)
        .order_by(OutboxMessage.id)
    )
    return [(chat_id, params) for chat_id, params in rows]


async def test_full_lifecycle_with_timeline_and_notices(world):
    service, people, repos, _clock = world
    proposal_id = await file_proposal(service, people["P1"])
    filed = await service.submit(people["P1"], proposal_id)
    assert filed.status is Status.COLLECTING and "\n\n" in filed.body

    await service.cosign(people["C1"], proposal_id)
    assert (await service.get(proposal_id)).status is Status.COLLECTING
    reached = await service.cosign(people["C2"], proposal_id)
    assert reached.status is Status.SUBMITTED

    await service.take_for_review(people["O1"], proposal_id)
    accepted = await service.decide(people["O1"], proposal_id, Status.ACCEPTED, "同意立案")
    assert accepted.decision_reason == "同意立案"
    assigned = await service.assign(people["O1"], proposal_id, "后勤处")
    assert assigned.due_on == date(2026, 12, 31)
    assert [chat for chat, _ in await notices(repos, "proposal.assigned")] == [6004]

    await service.ask_clarification(people["H1"], proposal_id, "具体是哪个食堂？")
    await service.clarify(people["P1"], proposal_id, "二食堂")
    await service.attach(people["H1"], proposal_id, "document", "file-2", "方案.pdf")
    answered = await service.answer(people["H1"], proposal_id, "已安排二食堂延长至 20:00。")
    assert answered.status is Status.ANSWERED
    closed = await service.rate(people["P1"], proposal_id, Rating.SATISFIED, "谢谢")
    assert closed.status is Status.CLOSED and closed.rating is Rating.SATISFIED

    _proposal, entries = await service.timeline(people["O1"], proposal_id)
    timeline = [e.action for e in entries]
    assert timeline == [
        "created",
        "submitted",
        "cosigned",
        "cosigned",
        "enough_cosigners",
        "review_started",
        "accepted",
        "assigned",
        "clarification_asked",
        "clarified",
        "answered",
        "rated",
    ]
    stages = [(a.stage, a.kind) for a in await service.attachments(people["C2"], proposal_id)]
    assert stages == [("filing", "photo"), ("answer", "document")]
    # Proposer (6000) and co-signers (6001, 6002) hear of every step after they joined.
    told = {chat for chat, _ in await notices(repos, "proposal.status")}
    assert told == {6000, 6001, 6002}
    assert [c for c, _ in await notices(repos, "proposal.clarification")] == [6000]
    assert [c for c, _ in await notices(repos, "proposal.clarified")] == [6004]


async def test_who_may_do_what(world):
    service, people, _repos, _clock = world
    with pytest.raises(DomainError, match="representatives"):
        await service.start(people["C1"], Kind.PROPOSAL, "其他")
    suggestion = await service.start(people["C1"], Kind.SUGGESTION, "其他")
    await service.set_title(people["C1"], suggestion, "建议")
    with pytest.raises(DomainError, match="does not exist"):  # not "permission denied":
        await service.add_text(people["C2"], suggestion, "不是我的草稿")  # that says it exists
    with pytest.raises(DomainError, match="does not exist"):
        await service.cosign(people["C2"], suggestion)  # drafts are invisible to others
    with pytest.raises(DomainError, match="title and a text"):
        await service.submit(people["C1"], suggestion)
    await service.add_text(people["C1"], suggestion, "内容")
    assert (await service.submit(people["C1"], suggestion)).status is Status.SUBMITTED

    proposal_id = await file_proposal(service, people["P1"])
    await service.submit(people["P1"], proposal_id)
    with pytest.raises(DomainError, match="own proposal"):
        await service.cosign(people["P1"], proposal_id)
    await service.cosign(people["C1"], proposal_id)
    with pytest.raises(DomainError, match="already co-signed"):
        await service.cosign(people["C1"], proposal_id)
    with pytest.raises(PermissionDenied):
        await service.decide(people["C1"], proposal_id, Status.ACCEPTED, "我自己批")


async def test_old_buttons_after_a_status_change_say_where_it_is(world):
    service, people, _repos, _clock = world
    proposal_id = await file_proposal(service, people["P1"])
    await service.submit(people["P1"], proposal_id)
    for cosigner in ("C1", "C2"):
        await service.cosign(people[cosigner], proposal_id)
    await service.decide(people["O1"], proposal_id, Status.DECLINED, "不属于工会职责")
    with pytest.raises(ProposalMoved) as moved:
        await service.decide(people["O1"], proposal_id, Status.ACCEPTED, "改主意")
    assert moved.value.params == {"status": "declined"} and moved.value.translate == ("status",)
    with pytest.raises(ProposalMoved):
        await service.add_text(people["P1"], proposal_id, "补充")


async def test_merge_needs_another_existing_proposal(world):
    service, people, _repos, _clock = world
    first = await file_proposal(service, people["P1"])
    second = await file_proposal(service, people["P1"])
    for proposal_id in (first, second):
        await service.submit(people["P1"], proposal_id)
        for cosigner in ("C1", "C2"):
            await service.cosign(people[cosigner], proposal_id)
    with pytest.raises(DomainError, match="another"):
        await service.decide(people["O1"], second, Status.MERGED, "并案", merge_into=second)
    merged = await service.decide(people["O1"], second, Status.MERGED, "并案", merge_into=first)
    assert merged.merged_into_id == first


async def test_only_the_assigned_department_or_officers_answer(world):
    service, people, _repos, _clock = world
    suggestion = await service.start(people["C1"], Kind.SUGGESTION, "后勤服务")
    await service.set_title(people["C1"], suggestion, "路灯")
    await service.add_text(people["C1"], suggestion, "北门路灯坏了")
    await service.submit(people["C1"], suggestion)
    await service.decide(people["O1"], suggestion, Status.ACCEPTED, "转后勤处")
    await service.assign(people["O1"], suggestion, "后勤处")
    with pytest.raises(PermissionDenied):
        await service.answer(people["H2"], suggestion, "教务处的回答")  # other department
    answered = await service.answer(people["O1"], suggestion, "已修复（工会代为答复）")
    assert answered.status is Status.ANSWERED


async def test_unsatisfied_reopens_once_then_goes_to_officers(world):
    service, people, _repos, _clock = world
    suggestion = await service.start(people["C1"], Kind.SUGGESTION, "福利待遇")
    await service.set_title(people["C1"], suggestion, "体检")
    await service.add_text(people["C1"], suggestion, "体检项目太少")
    await service.submit(people["C1"], suggestion)
    await service.decide(people["O1"], suggestion, Status.CONVERTED, "作为意见建议处理")
    await service.assign(people["O1"], suggestion, "后勤处")
    await service.answer(people["H1"], suggestion, "明年增加")
    reopened = await service.rate(people["C1"], suggestion, Rating.UNSATISFIED, "太慢")
    assert reopened.status is Status.ASSIGNED and reopened.reopen_count == 1
    await service.answer(people["H1"], suggestion, "今年就增加")
    to_officers = await service.rate(people["C1"], suggestion, Rating.UNSATISFIED)
    assert to_officers.status is Status.UNDER_REVIEW


async def test_due_reminders_then_officers_then_the_chair_each_once(world):
    service, people, repos, clock = world
    suggestion = await service.start(people["C1"], Kind.SUGGESTION, "后勤服务")
    await service.set_title(people["C1"], suggestion, "热水")
    await service.add_text(people["C1"], suggestion, "宿舍热水不稳定")
    await service.submit(people["C1"], suggestion)
    await service.decide(people["O1"], suggestion, Status.ACCEPTED, "立案")
    await service.assign(people["O1"], suggestion, "后勤处", due_on=date(2026, 12, 10))

    assert (await service.sweep())["reminded"] == 0
    clock.now = NOW + timedelta(days=6)  # 3 days left
    assert (await service.sweep())["reminded"] == 1
    assert (await service.sweep())["reminded"] == 0  # idempotent
    clock.now = NOW + timedelta(days=8)  # 1 day left: the 1-day reminder
    assert (await service.sweep())["reminded"] == 1
    clock.now = NOW + timedelta(days=10)  # a day overdue: officers
    assert (await service.sweep()) == {"reminded": 0, "overdue": 1, "escalated": 0}
    clock.now = NOW + timedelta(days=20)  # long overdue: the chair
    assert (await service.sweep())["escalated"] == 1
    assert (await service.sweep())["escalated"] == 0
    overdue = await notices(repos, "proposal.overdue")
    assert [chat for chat, _ in overdue] == [6003, 6006]


async def test_the_board_shows_everything_but_drafts(world):
    service, people, _repos, _clock = world
    await service.start(people["C1"], Kind.SUGGESTION, "其他")  # a draft
    proposal_id = await file_proposal(service, people["P1"])
    await service.submit(people["P1"], proposal_id)
    shown, total = await service.board()
    assert total == 1 and shown[0].id == proposal_id
    assert (await service.board(category="教学科研"))[1] == 0
    assert Role.CHAIR.value == "chair"


async def test_export_holds_the_complete_history(world):
    import csv
    import io

    from openpyxl import load_workbook

    from proposals.export import COLUMNS, export_proposals

    service, people, repos, _clock = world
    proposal_id = await file_proposal(service, people["P1"])
    await service.submit(people["P1"], proposal_id)
    for cosigner in ("C1", "C2"):
        await service.cosign(people[cosigner], proposal_id)
    await service.decide(people["O1"], proposal_id, Status.ACCEPTED, "=立案")  # formula-like
    await service.assign(people["O1"], proposal_id, "后勤处")
    await service.answer(people["H1"], proposal_id, "已落实")
    await service.rate(people["P1"], proposal_id, Rating.BASICALLY, "还行")

    buffer = io.BytesIO()
    assert await export_proposals(repos, "csv", buffer, "Asia/Shanghai") == 1
    header, row = list(csv.reader(io.StringIO(buffer.getvalue().decode("utf-8-sig"))))
    record = dict(zip(header, row, strict=True))
    assert header == COLUMNS
    assert record["附议人"] == "会员乙、会员丙" and record["满意度"] == "basically"
    assert record["处理意见"] == "'=立案"
    assert "assigned · 干部丁 · 后勤处" in record["办理过程"]
    assert len(record["办理过程"].splitlines()) == 9  # every event of the timeline

    workbook_bytes = io.BytesIO()
    await export_proposals(repos, "xlsx", workbook_bytes, "Asia/Shanghai")
    sheet = load_workbook(io.BytesIO(workbook_bytes.getvalue())).active
    assert sheet.max_row == 2 and sheet["D2"].value == "食堂延长营业时间"
