"""Proposal notices as members receive them, rendered by the real outbox sender."""

from __future__ import annotations

from aiogram.methods import SendMessage

from bot.scheduler import sweep_proposals
from bot.services import Services
from handlers.callbacks import ProposalAction, ProposalCB
from members.service import MembershipService
from proposals.model import Kind, Status
from proposals.service import ProposalService, ProposalSettings
from storage.uow import unit_of_work
from tests.conftest import register, seed_roster
from tests.harness import TgUser

PROPOSER, COSIGNER, OFFICER, HANDLER = (TgUser(id=9100 + i) for i in range(4))
ROSTER = [
    ("P1", "代表甲", "机电学院", "representative"),
    ("C1", "会员乙", "机电学院", ""),
    ("O1", "干部丁", "工会办公室", "officer"),
    ("H1", "承办戊", "后勤处", "handler"),
]


async def test_each_step_reaches_proposer_and_cosigners_in_their_language(app, database, config):
    await seed_roster(database, ROSTER)
    for user, (employee_id, name, *_rest) in zip(
        (PROPOSER, COSIGNER, OFFICER, HANDLER), ROSTER, strict=True
    ):
        await register(app, user, employee_id, name)
    async with unit_of_work(database.sessions) as repos:
        membership = MembershipService(repos)
        people = [await membership.identify(u.id) for u in (PROPOSER, COSIGNER, OFFICER, HANDLER)]
        service = ProposalService(repos, ProposalSettings(min_cosigners=1))
        proposal_id = await service.start(people[0], Kind.PROPOSAL, "后勤服务")
        await service.set_title(people[0], proposal_id, "<食堂>延时")
        await service.add_text(people[0], proposal_id, "延长到 20:00")
        await service.submit(people[0], proposal_id)
        await service.cosign(people[1], proposal_id)
        await service.decide(people[2], proposal_id, Status.ACCEPTED, "同意立案")
        await service.assign(people[2], proposal_id, "后勤处")
        await service.answer(people[3], proposal_id, "已安排")
    sent = (await app.flush_outbox()).requests
    to_proposer = [r.text for r in sent if isinstance(r, SendMessage) and r.chat_id == PROPOSER.id]
    assert any("已立案" in t and "同意立案" in t for t in to_proposer)
    assert all("&lt;食堂&gt;延时" in t for t in to_proposer)  # user text is escaped
    answered = [r for r in sent if isinstance(r, SendMessage) and "已答复" in r.text]
    rate = ProposalCB(action=ProposalAction.RATE, proposal_id=proposal_id, value="satisfied")
    by_chat = {r.chat_id: r for r in answered}
    assert rate.pack() in str(by_chat[PROPOSER.id].reply_markup)  # the proposer rates
    assert by_chat[COSIGNER.id].reply_markup is None  # co-signers are only told
    to_handler = [r.text for r in sent if isinstance(r, SendMessage) and r.chat_id == HANDLER.id]
    assert any("后勤处" in t for t in to_handler)
    assert await sweep_proposals(Services(config), database) == {
        "reminded": 0,
        "overdue": 0,
        "escalated": 0,
    }
