"""The mailbox in the digest (counts for officers, words only for the box's readers) and the
improvement loop from a letter: "you said, we did" reaches named and confidential senders and
sits in every linked thread, where an anonymous sender reads it with the receipt code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.services import Services
from digest.model import MailboxFigures
from digest.render import render_messages
from digest.sections.base import Audience
from digest.service import DigestService, english
from digest.settings import DigestSettings
from improvements.model import Link, LinkKind
from improvements.service import ActionDraft, ImprovementService
from mailboxes.memory import SlidingLimit
from mailboxes.model import Draft, IdentityMode, LetterType, MessageKind
from mailboxes.sealing import Sealer
from mailboxes.service import MailboxService
from mailboxes.settings import MailboxContext, MailboxGuards
from storage.uow import Repositories
from surveys.service import SurveyService
from tests.conftest import make_config
from tests.digest.world import TELEGRAM, make_world

W48 = "2026-W48"
MONDAY = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, week 2026-W48


@pytest.fixture
async def world(database):
    async with database.sessions() as session:
        yield await make_world(database, Repositories(session))


def mailbox(world, db_url, at: datetime) -> MailboxService:
    context = MailboxContext(
        settings=Services(make_config(db_url)).mailbox_settings,
        sealer=Sealer(b"k" * 32),
        guards=MailboxGuards(anonymous_letters=SlidingLimit(limit=99, window=86400)),
    )
    return MailboxService(world.repos, context, clock=lambda: at)


async def test_mailbox_figures_and_who_reads_letter_words(world, db_url):
    writer = world.people["M1"]
    early = mailbox(world, db_url, MONDAY)
    first = await early.send(
        writer, "principal", LetterType.REPORT, IdentityMode.NAMED, Draft("食堂卫生差")
    )
    await early.send(
        writer, "principal", LetterType.MISCONDUCT, IdentityMode.CONFIDENTIAL, Draft("食堂回扣")
    )
    await early.send(
        writer, "secretary", LetterType.SUGGESTION, IdentityMode.ANONYMOUS, Draft("食堂太远")
    )
    later = mailbox(world, db_url, MONDAY + timedelta(hours=6))
    await later.reply(world.people["PR"], first.letter_id, Draft("已转后勤"))

    figures = await world.repos.digests.mailbox_figures(
        MONDAY - timedelta(days=1), MONDAY + timedelta(days=7), None, reply_days=5
    )
    assert figures == MailboxFigures(
        {"principal": {"report": 1, "misconduct": 1}, "secretary": {"suggestion": 1}},
        unanswered=2,
        overdue=2,  # unanswered for more than 5 days at the end of the week
        median_first_reply_hours=6.0,
    )

    service = DigestService(world.repos, DigestSettings(), clock=world.clock)
    officers = await service.compute(_period(), Audience("officers", ""))
    assert officers["sections"]["mailbox"]["received"] == 3
    for theme in officers["sections"]["themes"]["themes"]:  # no words out of letters
        assert "letter" not in theme["sources"]
    text = "\n".join(render_messages(officers, english(None), None))
    assert "Principal's mailbox" in text or "院长信箱" in text
    assert "回扣" not in text and "卫生" not in text

    principal = await service.compute(_period(), Audience("box", "principal"))
    assert principal["sections"]["mailbox"]["received"] == 2
    words = {t["keyword"] for t in principal["sections"]["themes"]["themes"]}
    assert "食堂" in words
    assert "太远" not in str(principal["sections"]["themes"])  # the secretary's letter


async def test_closing_an_action_linked_to_letters_tells_senders(world, db_url, database):
    writer = world.people["M1"]
    box = mailbox(world, db_url, MONDAY)
    named = await box.send(
        writer, "principal", LetterType.REPORT, IdentityMode.NAMED, Draft("路灯坏了")
    )
    sealed = await box.send(
        writer, "principal", LetterType.REPORT, IdentityMode.CONFIDENTIAL, Draft("路灯太暗")
    )
    anonymous = await box.send(
        world.people["M2"], "principal", LetterType.REPORT, IdentityMode.ANONYMOUS, Draft("没灯")
    )
    officer = world.people["O1"]
    improvements = ImprovementService(
        world.repos, clock=world.clock, mailbox=box, surveys=SurveyService(world.repos)
    )
    letter_ids = (named.letter_id, sealed.letter_id, anonymous.letter_id)
    links = [Link(LinkKind.LETTER, letter_id) for letter_id in letter_ids]
    draft = ActionDraft("校园照明不足", "灯具老化", "更换 200 盏路灯", "", None, "夜间照明达标")
    action = await improvements.open(officer, draft, links)
    await improvements.start(officer, action.id)
    await improvements.record_effect(officer, action.id, "已全部更换", evidence=[])
    _closed, told = await improvements.close(officer, action.id)
    assert told == 1  # one member wrote the named and the confidential letter

    for letter_id in letter_ids:
        thread = await world.repos.mailbox.thread(letter_id)
        assert thread[-1].kind is MessageKind.IMPROVEMENT and "200" in thread[-1].text
    chats = await outbox_chats(database)
    assert TELEGRAM["M1"] in chats and TELEGRAM["M2"] not in chats  # anonymous: never told


async def outbox_chats(database) -> set[int]:
    from sqlalchemy import text

    async with database.engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT chat_id FROM outbox_messages WHERE template = 'improvement.done'")
        )
        return {row[0] for row in rows}


def _period():
    from digest.period import Period

    return Period.parse(W48)
