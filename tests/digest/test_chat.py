"""In chat: /digest for its recipients (and nobody else), the step-by-step improvement action
from a proposal card, a digest theme and a survey question, recording the effect, closing, and
the notice the proposer reads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiogram.methods import SendDocument, SendMessage, SendPhoto

from handlers.callbacks import ImprovementAction, ImprovementCB, ProposalAction, ProposalCB
from storage.uow import Repositories
from tests.conftest import make_driver
from tests.digest.world import (
    NOW,
    TELEGRAM,
    W48_DAY,
    add_survey,
    answer,
    file_suggestion,
    make_world,
)
from tests.harness import TgUser

OFFICER = TgUser(id=TELEGRAM["O1"])
MEMBER = TgUser(id=TELEGRAM["M1"])
HANDLER = TgUser(id=TELEGRAM["H1"])


@pytest.fixture
async def world(database):
    async with database.sessions() as session:
        yield await make_world(database, Repositories(session))


@pytest.fixture
def app(config, database, i18n):
    return make_driver(config, database, i18n)


async def test_digest_command_for_recipients_only(world, app) -> None:
    survey_id = await add_survey(world)
    for _ in range(3):
        await answer(world, survey_id, W48_DAY, 4, None, "图书馆开放时间太短")
    outcome = await app.send(OFFICER, "/digest 2026-W48")
    texts = [r for r in outcome.requests if isinstance(r, SendMessage)]
    assert any("2026-W48" in r.text for r in texts)
    assert any(isinstance(r, SendPhoto) for r in outcome.requests)
    assert any(isinstance(r, SendDocument) for r in outcome.requests)
    theme = outcome.button("图书馆")
    assert theme.startswith("ia1:n:")

    # The stored digest: the same again, even after more answers for that week.
    await answer(world, survey_id, W48_DAY, 1, None, "停车难")
    again = await app.send(OFFICER, "/digest 2026-W48")
    assert [r.text for r in again.requests if isinstance(r, SendMessage)][1:] == [
        r.text for r in texts
    ][1:]

    refused = await app.send(MEMBER, "/digest")
    assert "没有权限" in refused.text
    bad = await app.send(OFFICER, "/digest last-week")
    assert "2026-W48" in bad.text

    handler = await app.send(HANDLER, "/digest 2026-W48")
    assert "ia1:n" not in str([r.reply_markup for r in handler.requests])


async def test_action_from_a_proposal_card_to_the_proposers_notice(world, app) -> None:
    proposal = await file_suggestion(
        world, "M1", "食堂排队", "午餐排队太久", NOW - timedelta(days=2)
    )
    card = await app.press(OFFICER, ProposalCB(action=ProposalAction.VIEW, proposal_id=proposal))
    start = card.button("🛠")
    # A member pressing an old or forged button is refused.
    assert "没有权限" in (await app.press(MEMBER, start)).text
    intro = await app.press(OFFICER, start)
    assert "食堂排队" in intro.text
    for text in ("高峰期排队长", "窗口少", "增开窗口", "H1", "30", "排队10分钟以内"):
        outcome = await app.send(OFFICER, text)
    assert "#1" in outcome.text and "承办戊" in outcome.text
    effect = await app.press(OFFICER, ImprovementCB(action=ImprovementAction.EFFECT, action_id=1))
    assert effect.text
    recorded = await app.send(OFFICER, "排队降到8分钟")
    close = recorded.button("✅")
    closed = await app.press(OFFICER, close)
    assert "1" in closed.text
    sent = await app.flush_outbox()
    notice = [r.text for r in sent.sent_to(MEMBER.id) if "排队降到8分钟" in r.text]
    assert notice and "增开窗口" in notice[0]

    listing = await app.send(OFFICER, "/actions")
    assert listing.requests


async def test_action_from_a_digest_theme_and_a_survey_question(world, app) -> None:
    survey_id = await add_survey(world)
    for _ in range(3):
        await answer(world, survey_id, W48_DAY, 2, None, "图书馆开放时间太短")
    digest = await app.send(OFFICER, "/digest 2026-W48")
    intro = await app.press(OFFICER, digest.button("图书馆"))
    assert "图书馆" in intro.text
    for text in ("图书馆", "-", "-", "图书馆", "-", "延长开放"):
        outcome = await app.send(OFFICER, text)
    assert "theme" in outcome.text

    question = ImprovementCB(action=ImprovementAction.NEW, kind="q", ref_id=survey_id, ref_key="1")
    intro = await app.press(OFFICER, question)
    assert "饭菜质量" in intro.text
    for text in ("饭菜质量低", "-", "-", "后勤处", "2026-01-01"):
        outcome = await app.send(OFFICER, text)
    assert "不能早于今天" in outcome.text  # the step is asked again
    assert "YYYY-MM-DD" in (await app.send(OFFICER, "tomorrow")).text
    outcome = await app.send(OFFICER, "-")
    outcome = await app.send(OFFICER, "满意度到4分")
    assert "question" in outcome.text and "food" in outcome.text
    # The handler of the owning department sees it in /actions; a member may not look.
    assert "饭菜质量低" in str((await app.send(HANDLER, "/actions")).buttons())
    refused = await app.send(MEMBER, "/actions")
    assert "没有权限" in refused.text
