"""What the sandbox puts in its database: the personas always; with --demo, something to try.

Everything goes through the same services the bot and the CLI use, so the demo data is
exactly what real use would produce (an opened survey queues real invitations in the outbox,
which the running bot then sends to the personas). Running it again on a kept database adds
nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import sandbox
from bot.services import Services
from common.errors import DomainError
from mailboxes.model import Draft, IdentityMode, LetterType
from members.dto import Identity, MemberDTO
from members.roles import Role
from members.roster import RosterRow
from proposals.model import Kind
from sandbox.personas import Persona
from storage.database import Database
from storage.uow import Repositories, unit_of_work

logger = logging.getLogger(__name__)

DEMO_SURVEY = "sandbox-demo"
DEMO_SURVEY_FILE = Path(sandbox.__file__).resolve().parent / "demo-survey.toml"

# Colleagues who never open the sandbox: a roster of realistic size, and co-signers.
DEMO_ROSTER: tuple[tuple[str, str, str], ...] = (
    ("T5001", "孙丽", "外国语学院"),
    ("T5002", "周强", "外国语学院"),
    ("T5003", "吴敏", "机电工程学院"),
    ("T5004", "郑磊", "机电工程学院"),
    ("T5005", "冯雪", "信息工程学院"),
    ("T5006", "何军", "信息工程学院"),
    ("T5007", "高燕", "后勤处"),
    ("T5008", "林涛", "经济管理学院"),
)
DEMO_PROPOSAL_TITLE = "延长图书馆周末开放时间"
DEMO_PROPOSAL_BODY = (
    "目前图书馆周末 17:00 闭馆，青年教师和备课教师反映周末晚上没有合适的工作场所。"
    "建议周六、周日开放至 21:00，并在考试周前后增开自习区。"
)

DEMO_LETTER_NAMED = "建议在教学楼每层增设饮水机，夏天老师上课间隙常常找不到热水和凉水。"
DEMO_LETTER_ANONYMOUS = "实验楼三楼的消防通道经常被杂物堵住，已经反映过两次仍未清理。"


async def seed_personas(
    database: Database, services: Services, personas: Sequence[Persona]
) -> None:
    """Roster entries for every persona; the `registered` ones linked to their Telegram id."""
    rows = [
        RosterRow(i, p.employee_id, p.name, p.department, p.roles)
        for i, p in enumerate(personas, start=2)
    ]
    async with unit_of_work(database.sessions) as repos:
        await services.membership(repos).import_roster(rows)
    for persona in personas:
        if not persona.registered:
            continue
        async with unit_of_work(database.sessions) as repos:
            # An invite, as the server would send: a privileged row never links by name. No
            # locale: the page's language (Telegram's language_code) decides until /lang.
            service = services.membership(repos)
            code = await service.create_invite(persona.employee_id, timedelta(days=1))
            await service.redeem_invite(persona.telegram_id, code, locale=None)


async def seed_demo(database: Database, services: Services, personas: Sequence[Persona]) -> None:
    """A roster, an open anonymous survey, a proposal, a letter: a first screen to try."""
    rows = [
        RosterRow(i, employee_id, name, department, frozenset({Role.MEMBER}))
        for i, (employee_id, name, department) in enumerate(DEMO_ROSTER, start=2)
    ]
    async with unit_of_work(database.sessions) as repos:
        await services.membership(repos).import_roster(rows)
    async with unit_of_work(database.sessions) as repos:
        await seed_survey(repos, services)
    async with unit_of_work(database.sessions) as repos:
        await seed_proposal(repos, services, personas)
    async with unit_of_work(database.sessions) as repos:
        await seed_letter(repos, services, personas)


async def seed_survey(repos: Repositories, services: Services) -> None:
    """The sample survey, opened: the bot invites every registered persona."""
    service = services.surveys(repos)
    source = DEMO_SURVEY_FILE.read_text(encoding="utf-8")
    survey, _ = await service.import_definition(source, DEMO_SURVEY_FILE.name)
    await repos.commit()
    if survey.status == "draft":
        await service.open(DEMO_SURVEY)
        await repos.commit()


async def seed_proposal(
    repos: Repositories, services: Services, personas: Sequence[Persona]
) -> None:
    """Member B's proposal, co-signed by colleagues: it waits in the officers' queue."""
    proposer = await _identity(repos, _by_key(personas, "member_b").employee_id)
    service = services.proposals(repos)
    if await service.mine(proposer):
        return
    category = "后勤服务" if "后勤服务" in service.settings.categories else None
    proposal_id = await service.start(
        proposer, Kind.PROPOSAL, category or service.settings.categories[0]
    )
    await service.set_title(proposer, proposal_id, DEMO_PROPOSAL_TITLE)
    await service.add_text(proposer, proposal_id, DEMO_PROPOSAL_BODY)
    await service.submit(proposer, proposal_id)
    for employee_id, *_ in DEMO_ROSTER[: service.settings.min_cosigners]:
        try:
            await service.cosign(await _identity(repos, employee_id), proposal_id)
        except DomainError:  # e.g. fewer roster colleagues than min_cosigners asks for
            logger.info("demo proposal: co-signing by %s refused", employee_id)


async def seed_letter(repos: Repositories, services: Services, personas: Sequence[Persona]) -> None:
    """Member B's named letter to the principal's mailbox, and an anonymous one (its receipt
    code is not kept: the principal persona reads and answers it, nobody can follow it up)."""
    sender = await _identity(repos, _by_key(personas, "member_b").employee_id)
    mailbox = services.mailbox(repos)
    if await mailbox.sent_letters(sender):
        return
    box = services.mailbox_settings.boxes[0].key
    await mailbox.send(
        sender, box, LetterType.SUGGESTION, IdentityMode.NAMED, Draft(DEMO_LETTER_NAMED)
    )
    await mailbox.send(
        sender, box, LetterType.REPORT, IdentityMode.ANONYMOUS, Draft(DEMO_LETTER_ANONYMOUS)
    )
    await mailbox.sweep()  # tells the recipients of the anonymous letter at once


def _by_key(personas: Sequence[Persona], key: str) -> Persona:
    return next(p for p in personas if p.key == key)


async def _identity(repos: Repositories, employee_id: str) -> Identity:
    member: MemberDTO | None = await repos.members.get_by_employee_id(employee_id)
    assert member is not None, f"{employee_id} is not on the roster"
    return Identity(telegram_id=member.telegram_id or 0, member=member, roles=member.roles)
