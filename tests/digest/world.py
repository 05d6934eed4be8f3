"""A small union with a survey answered over two weeks, proposals and roles, for the digest
and improvement tests. Dates: period 2026-W48 is 23–29 Nov 2026; W47 the week before."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from members.dto import Identity
from members.service import CONSENT_VERSION, MembershipService
from proposals.model import Kind
from proposals.service import ProposalService, ProposalSettings
from storage.database import Database
from storage.uow import Repositories
from surveys.model import AnswerRow
from surveys.service import SurveyService
from tests.conftest import seed_roster

ROSTER = [
    ("O1", "干部甲", "工会办公室", "officer"),
    ("Z1", "主席乙", "工会办公室", "chair"),
    ("PR", "院长丙", "校办", "principal"),
    ("SE", "书记丁", "党办", "secretary"),
    ("H1", "承办戊", "后勤处", "handler"),
    ("R1", "代表己", "机电学院", "representative"),
    ("M1", "会员庚", "机电学院", ""),
    ("M2", "会员辛", "外语学院", ""),
]
TELEGRAM = {employee_id: 7000 + i for i, (employee_id, *_rest) in enumerate(ROSTER)}
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Shanghai, week 2026-W49
W48_DAY = date(2026, 11, 25)
W47_DAY = date(2026, 11, 18)

SURVEY = """
id = "{slug}"
title = {{ zh = "食堂满意度", en = "Canteen satisfaction" }}
anonymous = {anonymous}

[[questions]]
id = "food"
type = "scale"
text = {{ zh = "饭菜质量满意度", en = "Food quality" }}
min = 1
max = 5

[[questions]]
id = "nps"
type = "nps"
text = {{ zh = "推荐食堂的可能性", en = "Recommend the canteen?" }}
required = false

[[questions]]
id = "comment"
type = "text"
text = {{ zh = "其他意见", en = "Comments" }}
required = false
"""


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    repos: Repositories
    people: dict[str, Identity]
    clock: Clock

    def member_id(self, employee_id: str) -> int:
        member = self.people[employee_id].member
        assert member is not None
        return member.id


async def make_world(database: Database, repos: Repositories) -> World:
    await seed_roster(database, ROSTER)
    people = {}
    for employee_id, telegram_id in TELEGRAM.items():
        member = await repos.members.get_by_employee_id(employee_id)
        assert member is not None
        await repos.members.link_telegram(
            member.id, telegram_id, locale="zh", consent_version=CONSENT_VERSION, now=NOW
        )
        await repos.commit()
        people[employee_id] = await MembershipService(repos).identify(telegram_id)
    return World(repos, people, Clock())


async def add_survey(
    world: World,
    slug: str = "canteen",
    *,
    anonymous: bool = False,
    opened: datetime = datetime(2026, 11, 10, tzinfo=UTC),
) -> int:
    service = SurveyService(world.repos)
    survey, _ = await service.import_definition(
        SURVEY.format(slug=slug, anonymous="true" if anonymous else "false"), f"{slug}.toml"
    )
    await world.repos.surveys.set_status(survey.id, "open", opened)
    await world.repos.commit()
    return survey.id


async def answer(
    world: World,
    survey_id: int,
    day: date,
    food: int,
    nps: int | None = None,
    comment: str | None = None,
    *,
    member: str | None = None,
    department: str | None = "机电学院",
) -> None:
    answers = [AnswerRow("food", number=food)]
    if nps is not None:
        answers.append(AnswerRow("nps", number=nps))
    if comment is not None:
        answers.append(AnswerRow("comment", text=comment))
    await world.repos.surveys.add_response(
        survey_id,
        member_id=world.member_id(member) if member else None,
        department=department,
        submitted_on=day,
        submitted_at=None,
        answers=answers,
    )
    await world.repos.commit()


async def file_suggestion(world: World, who: str, title: str, body: str, at: datetime) -> int:
    clock = Clock(at)
    service = ProposalService(world.repos, ProposalSettings(), clock=clock)
    proposal_id = await service.start(world.people[who], Kind.SUGGESTION, "后勤服务")
    await service.set_title(world.people[who], proposal_id, title)
    await service.add_text(world.people[who], proposal_id, body)
    await service.submit(world.people[who], proposal_id)
    return proposal_id
