"""Officers' daily work in chat: told when something needs them (batched, mutable), departments
and due dates chosen from buttons, and one /todo screen — in Chinese and English."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from aiogram.methods import SendMessage

from bot.scheduler import create_scheduler, sweep_notices
from bot.services import Services
from handlers.callbacks import (
    MenuAction,
    MenuCB,
    NoticeCB,
    ProposalAction,
    ProposalCB,
    TodoCB,
    TodoQueue,
)
from improvements.service import ActionDraft
from mailboxes.model import Draft, IdentityMode, LetterType
from mailboxes.service import MailboxService
from members.service import MembershipService
from proposals.model import Kind, Status
from proposals.service import ProposalService, ProposalSettings
from storage.uow import unit_of_work
from tests.conftest import register, seed_roster
from tests.harness import BotDriver, TgUser

PROPOSER, OFFICER, OFFICER_EN, HANDLER, HANDLER_2, PRINCIPAL, MEMBER = (
    TgUser(id=9700 + i) for i in range(7)
)
OFFICER_EN = TgUser(id=OFFICER_EN.id, language_code="en")
PRINCIPAL = TgUser(id=PRINCIPAL.id, language_code="en")
ROSTER = [
    ("P1", "代表甲", "机电学院", "representative"),
    ("O1", "干部丁", "工会办公室", "officer"),
    ("O2", "Officer Zhao", "工会办公室", "officer"),
    ("H1", "承办戊", "后勤处", "handler"),
    ("H2", "承办己", "教务处", "handler"),
    ("X1", "Wang Principal", "校长办公室", "principal"),
    ("M1", "会员庚", "外语学院", ""),  # 外语学院 has no handler
]
PEOPLE = (PROPOSER, OFFICER, OFFICER_EN, HANDLER, HANDLER_2, PRINCIPAL, MEMBER)
TZ = ZoneInfo("Asia/Shanghai")  # the default union time zone: due dates are its days


def today() -> date:
    return datetime.now(TZ).date()


async def everyone(app: BotDriver, database) -> None:
    await seed_roster(database, ROSTER)
    for user, (employee_id, name, *_rest) in zip(PEOPLE, ROSTER, strict=True):
        await register(app, user, employee_id, name)
    await app.flush_outbox()


async def proposal_in(
    database, title: str, status: Status, department: str = "", due_in: int = 30
) -> int:
    """A proposal filed by PROPOSER and taken as far as `status` by the services."""
    async with unit_of_work(database.sessions) as repos:
        membership = MembershipService(repos)
        proposer = await membership.identify(PROPOSER.id)
        officer = await membership.identify(OFFICER.id)
        service = ProposalService(repos, ProposalSettings(min_cosigners=0))
        proposal_id = await service.start(proposer, Kind.PROPOSAL, "后勤服务")
        await service.set_title(proposer, proposal_id, title)
        await service.add_text(proposer, proposal_id, "正文")
        await service.submit(proposer, proposal_id)
        if status in (Status.ACCEPTED, Status.ASSIGNED):
            await service.decide(officer, proposal_id, Status.ACCEPTED, "同意立案")
        if status is Status.ASSIGNED:
            due = service.today() + timedelta(days=due_in)
            await service.assign(officer, proposal_id, department, due)
    return proposal_id


async def status_of(database, proposal_id: int) -> tuple[Status, str | None, date | None]:
    async with unit_of_work(database.sessions) as repos:
        proposal = await ProposalService(repos).get(proposal_id)
    return proposal.status, proposal.department, proposal.due_on


async def notices(app: BotDriver, database) -> list[SendMessage]:
    """One notice sweep, then everything the sender sends."""
    await sweep_notices(database)
    return [r for r in (await app.flush_outbox()).requests if isinstance(r, SendMessage)]


def to(sent: list[SendMessage], user: TgUser) -> list[SendMessage]:
    return [r for r in sent if r.chat_id == user.id]


# -- told within one sweep, batched ----------------------------------------
async def test_officers_told_of_a_proposal_in_review_within_one_sweep(app, database):
    await everyone(app, database)
    await proposal_in(database, "食堂延长营业时间", Status.SUBMITTED)
    before = await app.flush_outbox()
    assert not before.sent_to(OFFICER.id), "held for the notice sweep"

    sent = await notices(app, database)
    (zh,) = to(sent, OFFICER)
    assert "食堂延长营业时间" in zh.text and "该提案已可审查" in zh.text
    (en,) = to(sent, OFFICER_EN)
    assert "This proposal is ready for review" in en.text
    assert not to(sent, HANDLER), "only officers"
    opened = await app.press(OFFICER, zh.reply_markup.inline_keyboard[0][0].callback_data)
    assert "食堂延长营业时间" in opened.text
    assert await notices(app, database) == [], "told once"

    # Three at once: one message each, a button per proposal.
    ids = [await proposal_in(database, f"提案{n}", Status.SUBMITTED) for n in range(3)]
    sent = await notices(app, database)
    (zh,) = to(sent, OFFICER)
    assert "有 3 件提案等待审查" in zh.text
    buttons = [b.text for row in zh.reply_markup.inline_keyboard for b in row]
    assert [f"#{i} 提案{n}" for n, i in enumerate(ids)] == buttons[:3]
    assert "🗒 待办" in buttons
    (en,) = to(sent, OFFICER_EN)
    assert "3 proposals are waiting for review." in en.text


async def test_muted_kind_is_not_sent_and_can_be_turned_on_again(app, database):
    await everyone(app, database)
    screen = await app.send(OFFICER, "/settings")
    assert "🔔 待审查的提案" in str(screen.buttons())
    muted = await app.press(OFFICER, screen.button("待审查的提案"))
    assert "已静音：待审查的提案" in muted.text
    assert "🔕 待审查的提案" in str(muted.buttons())

    await proposal_in(database, "静音期间的提案", Status.SUBMITTED)
    sent = await notices(app, database)
    assert not to(sent, OFFICER), "muted"
    assert to(sent, OFFICER_EN), "the other officer still hears"

    again = await app.press(OFFICER, NoticeCB(kind="rv"))
    assert "已重新开启" in again.text
    await proposal_in(database, "恢复后的提案", Status.SUBMITTED)
    assert to(await notices(app, database), OFFICER)

    # A handler is offered only the kinds that reach them; a forged button changes nothing.
    handler_screen = await app.send(HANDLER, "/settings")
    assert "待审查的提案" not in str(handler_screen.buttons())
    assert "分派给本部门的提案" in str(handler_screen.buttons())
    assert "此按钮已失效" in (await app.press(HANDLER, NoticeCB(kind="rv"))).text
    assert "此按钮已失效" in (await app.press(HANDLER, NoticeCB(kind="zz"))).text


# -- choose, don't type ----------------------------------------
async def test_department_chosen_by_button_notifies_its_handler(app, database):
    await everyone(app, database)
    proposal_id = await proposal_in(database, "食堂延长营业时间", Status.ACCEPTED)
    await app.flush_outbox()
    choices = await app.press(
        OFFICER, ProposalCB(action=ProposalAction.ASSIGN, proposal_id=proposal_id)
    )
    names = [text for text, _data in choices.buttons(OFFICER.id)]
    marked = [name.startswith("✅ ") for name in names]
    assert marked == sorted(marked, reverse=True), "departments with handlers first"
    assert {"✅ 后勤处", "✅ 教务处", "外语学院"} <= set(names)
    assert all(len(data.encode()) <= 64 for _text, data in choices.buttons(OFFICER.id))

    due = await app.press(OFFICER, choices.button("✅ 后勤处"))
    assert "后勤处" in due.text and "YYYY-MM-DD" in due.text
    # Bad dates get a clear reply, and nothing changes.
    assert "YYYY-MM-DD" in (await app.send(OFFICER, "下周五")).text
    assert "不存在 2026-02-30 这一天" in (await app.send(OFFICER, "2026-02-30")).text
    assert "办理期限不能早于今天" in (await app.send(OFFICER, "2000-01-01")).text
    assert await status_of(database, proposal_id) == (Status.ACCEPTED, None, None)

    # Buttons are not trusted: a handler cannot assign, a forged value changes nothing.
    assert "没有权限" in (await app.press(HANDLER, due.button("+14"))).text
    forged = due.button("+14").replace(":14-", ":9999-")
    assert "此按钮已失效" in (await app.press(OFFICER, forged)).text
    assert await status_of(database, proposal_id) == (Status.ACCEPTED, None, None)

    card = await app.press(OFFICER, due.button("+14"))
    assert "后勤处" in card.text
    assert await status_of(database, proposal_id) == (
        Status.ASSIGNED,
        "后勤处",
        today() + timedelta(days=14),
    )
    sent = await app.flush_outbox()
    (told,) = sent.sent_to(HANDLER.id)
    assert "后勤处" in told.text
    view = ProposalCB(action=ProposalAction.VIEW, proposal_id=proposal_id).pack()
    assert view in str(told.reply_markup)
    assert not sent.sent_to(HANDLER_2.id)

    # Stale buttons after the proposal moved on.
    for old in (due.button("+7"), choices.button("✅ 教务处")):
        assert "该提案当前状态：承办部门办理中" in (await app.press(OFFICER, old)).text
    assert await status_of(database, proposal_id) == (
        Status.ASSIGNED,
        "后勤处",
        today() + timedelta(days=14),
    )


async def test_typed_date_is_accepted_when_valid(app, database):
    await everyone(app, database)
    proposal_id = await proposal_in(database, "图书馆开放时间", Status.ACCEPTED)
    choices = await app.press(
        OFFICER, ProposalCB(action=ProposalAction.ASSIGN, proposal_id=proposal_id)
    )
    await app.press(OFFICER, choices.button("教务处"))
    due = (today() + timedelta(days=10)).isoformat()
    card = await app.send(OFFICER, due)
    assert "教务处" in card.text
    assert (await status_of(database, proposal_id))[2] == today() + timedelta(days=10)
    assert (await app.flush_outbox()).sent_to(HANDLER_2.id)


async def test_department_without_handlers_asks_before_assigning(app, database):
    await everyone(app, database)
    proposal_id = await proposal_in(database, "外语角场地", Status.ACCEPTED)
    await app.flush_outbox()
    choices = await app.press(
        OFFICER, ProposalCB(action=ProposalAction.ASSIGN, proposal_id=proposal_id)
    )
    asked = await app.press(OFFICER, choices.button("外语学院"))
    assert "外语学院在机器人中还没有承办人" in asked.text and "工会干部" in asked.text
    assert await status_of(database, proposal_id) == (Status.ACCEPTED, None, None)
    assert "选择承办部门" in (await app.press(OFFICER, asked.button("另选部门"))).text

    due = await app.press(OFFICER, asked.button("仍然分派"))
    await app.press(OFFICER, due.button("默认"))
    assert (await status_of(database, proposal_id))[:2] == (Status.ASSIGNED, "外语学院")
    sent = await app.flush_outbox()
    assert "没有承办人" in sent.sent_to(OFFICER.id)[-1].text, "officers are told instead"
    assert "no handlers in the bot" in sent.sent_to(OFFICER_EN.id)[-1].text
    assert not sent.sent_to(HANDLER.id) and not sent.sent_to(HANDLER_2.id)


async def test_typed_department_must_be_on_the_roster(app, database):
    await everyone(app, database)
    proposal_id = await proposal_in(database, "后勤问题", Status.ACCEPTED)
    await app.press(OFFICER, ProposalCB(action=ProposalAction.ASSIGN, proposal_id=proposal_id))
    wrong = await app.send(OFFICER, "后勤")  # a typo of 后勤处
    assert "没有这个名称的部门" in wrong.text and "✅ 后勤处" in str(wrong.buttons())
    assert await status_of(database, proposal_id) == (Status.ACCEPTED, None, None)


async def test_member_picked_by_department_for_roles(app, database):
    await everyone(app, database)
    departments = await app.press(OFFICER, MenuCB(action=MenuAction.ROLES))
    assert "工号" in departments.text
    members = await app.press(OFFICER, departments.button("后勤处"))
    card = await app.press(OFFICER, members.button("承办戊 (H1)"))
    assert "承办戊" in card.text and "☑️" in str(card.buttons())
    typed = await app.send(OFFICER, "H2")  # the typed employee id still works
    assert "承办己" in typed.text
    refused = await app.press(HANDLER, departments.button("后勤处"))
    assert "没有权限" in refused.text


# -- /todo ----------------------------------------
async def queues(app: BotDriver, database, config) -> dict[str, int]:
    """One item in every queue, and some that belong to others."""
    await everyone(app, database)
    await app.send(TgUser(id=9799), "/start")  # not on the roster: a registration request
    await app.press(TgUser(id=9799), "c1:1")
    await app.send(TgUser(id=9799), "Z9")
    await app.send(TgUser(id=9799), "新来的")
    ids = {
        "review": await proposal_in(database, "待审查", Status.SUBMITTED),
        "assign": await proposal_in(database, "待分派", Status.ACCEPTED),
        "due": await proposal_in(database, "后勤将到期", Status.ASSIGNED, "后勤处", due_in=2),
        "other": await proposal_in(database, "教务将到期", Status.ASSIGNED, "教务处", due_in=1),
        "later": await proposal_in(database, "后勤不急", Status.ASSIGNED, "后勤处", due_in=20),
    }
    async with unit_of_work(database.sessions) as repos:
        membership = MembershipService(repos)
        proposer = await membership.identify(PROPOSER.id)
        officer = await membership.identify(OFFICER.id)
        services = Services(config)
        mailbox = services.mailbox(repos)
        sent = await mailbox.send(
            proposer, "principal", LetterType.REPORT, IdentityMode.NAMED, Draft(text="食堂太挤")
        )
        ids["letter"] = sent.letter_id
        action = await services.improvements(repos).open(
            officer,
            ActionDraft("食堂排队", "", "增开窗口", "H1", today() + timedelta(days=1), ""),
            [],
        )
        ids["action"] = action.id
    await app.flush_outbox()
    return ids


async def test_todo_for_an_officer_in_chinese_and_english(app, database, config):
    ids = await queues(app, database, config)
    screen = await app.send(OFFICER, "/todo")
    assert "待处理的注册申请：1 件" in screen.text
    assert "待审查的提案：1 件" in screen.text
    assert "待分派的提案：1 件" in screen.text
    assert "已分派、即将到期或已逾期的提案：2 件（逾期 0 件）" in screen.text
    assert "来信" not in screen.text, "not a recipient of any box"
    review = await app.press(OFFICER, screen.button("待审查"))
    assert [t for t, _d in review.buttons()] == [f"#{ids['review']} 待审查 · 已提交"]
    card = await app.press(OFFICER, review.button("待审查"))
    assert "待审查" in card.text
    due = await app.press(OFFICER, screen.button("将到期"))
    assert {t.split(" ")[0] for t, _d in due.buttons()} == {f"#{ids['due']}", f"#{ids['other']}"}
    registrations = await app.press(OFFICER, screen.button("注册申请"))
    assert "新来的" in registrations.text

    english = await app.send(OFFICER_EN, "/todo")
    assert "Registration requests waiting: 1" in english.text
    assert "Proposals to review: 1" in english.text
    assert "Proposals to assign: 1" in english.text
    assert "Assigned proposals due soon or overdue: 2 (0 overdue)" in english.text
    menu = await app.send(OFFICER_EN, "/menu")
    assert "🗒 To do" in str(menu.buttons())
    assert "To do" in (await app.press(OFFICER_EN, MenuCB(action=MenuAction.TODO))).text


async def test_todo_for_a_handler_shows_only_their_department(app, database, config):
    ids = await queues(app, database, config)
    screen = await app.send(HANDLER, "/todo")
    assert "后勤处即将到期或已逾期的提案：1 件" in screen.text
    assert "我负责的到期改进事项：1 项" in screen.text
    assert "待审查" not in screen.text and "注册申请" not in screen.text
    due = await app.press(HANDLER, screen.button("将到期"))
    assert [t.split(" ")[0] for t, _d in due.buttons()] == [f"#{ids['due']}"]
    actions = await app.press(HANDLER, screen.button("改进事项"))
    assert actions.buttons()[0][0].startswith(f"#{ids['action']} 食堂排队")
    assert "增开窗口" in (await app.press(HANDLER, actions.buttons()[0][1])).text
    opened = await app.press(HANDLER, due.buttons()[0][1])
    assert "后勤将到期" in opened.text
    # A forged queue button shows only what this handler's own /todo holds.
    forged = await app.press(HANDLER, TodoCB(queue=TodoQueue.REVIEW))
    assert "待审查" not in str(forged.buttons()) and "暂无内容" in forged.text

    other = await app.send(HANDLER_2, "/todo")
    assert "教务处即将到期或已逾期的提案：1 件" in other.text
    assert "我负责的到期改进事项：0 项" in other.text


async def test_todo_for_a_box_recipient_in_english(app, database, config):
    ids = await queues(app, database, config)
    screen = await app.send(PRINCIPAL, "/todo")
    assert "Letters waiting for a first reply: 1" in screen.text
    assert "Proposals" not in screen.text, "a recipient sees no proposal queues"
    letters = await app.press(PRINCIPAL, screen.button("Letters"))
    opened = await app.press(PRINCIPAL, letters.button(f"Letter #{ids['letter']}"))
    assert "食堂太挤" in opened.text
    # Officers do not receive the principal's box: no letters for them.
    assert "来信" not in (await app.send(OFFICER, "/todo")).text

    member = await app.send(MEMBER, "/todo")
    assert "目前没有待办事项" in member.text


async def test_overdue_letters_reach_recipients_as_one_notice(app, database, config):
    """Sweep-made notices are merged per recipient: two overdue letters, one message."""
    await everyone(app, database)
    async with unit_of_work(database.sessions) as repos:
        proposer = await MembershipService(repos).identify(PROPOSER.id)
        mailbox = MailboxService(repos, Services(config).mailbox_context)
        for text in ("一", "二"):
            await mailbox.send(
                proposer, "principal", LetterType.REPORT, IdentityMode.NAMED, Draft(text=text)
            )
    await app.flush_outbox()
    later = datetime.now(TZ) + timedelta(days=30)
    async with unit_of_work(database.sessions) as repos:
        context = Services(config).mailbox_context
        assert (await MailboxService(repos, context, clock=lambda: later).sweep())["reminded"] == 2
    sent = await notices(app, database)
    (told,) = to(sent, PRINCIPAL)
    assert "2 letters are still waiting for a first reply." in told.text
    assert "Letter #" in str(told.reply_markup)


# -- scheduler ----------------------------------------
async def test_every_scheduler_job_is_named_on_purpose(config, database):
    scheduler = create_scheduler(Services(config), database)
    jobs = scheduler.get_jobs()
    assert {job.id for job in jobs} >= {"surveys", "proposals", "mailbox", "actions", "notices"}
    for job in jobs:
        assert job.name == job.id, job.name
        assert "<locals>" not in job.name
        assert job.coalesce is True
        assert job.max_instances == 1
