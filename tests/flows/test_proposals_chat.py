"""A proposal's whole life in chat, with a proposer, two co-signers, an officer, a handler."""

from __future__ import annotations

from handlers.callbacks import MenuAction, MenuCB, ProposalAction, ProposalCB
from tests.conftest import register, seed_roster
from tests.harness import TgUser

PROPOSER, C1, C2, OFFICER, HANDLER = (TgUser(id=9500 + i) for i in range(5))
ROSTER = [
    ("P1", "代表甲", "机电学院", "representative"),
    ("C1", "会员乙", "机电学院", ""),
    ("C2", "会员丙", "外语学院", ""),
    ("O1", "干部丁", "工会办公室", "officer"),
    ("H1", "承办戊", "后勤处", "handler"),
]


def cb(action: ProposalAction, proposal_id: int = 1, value: str = "") -> ProposalCB:
    return ProposalCB(action=action, proposal_id=proposal_id, value=value)


async def everyone(app, database) -> None:
    await seed_roster(database, ROSTER)
    for user, (employee_id, name, *_rest) in zip(
        (PROPOSER, C1, C2, OFFICER, HANDLER), ROSTER, strict=True
    ):
        await register(app, user, employee_id, name)


async def test_file_cosign_review_assign_clarify_answer_rate(app, database):
    await everyone(app, database)
    menu = await app.press(PROPOSER, MenuCB(action=MenuAction.PROPOSALS))
    assert "提交提案" in menu.text or "提交提案" in str(menu.buttons())
    categories = await app.press(PROPOSER, menu.button("提交提案"))
    assert "标题" in (await app.press(PROPOSER, categories.button("后勤服务"))).text
    assert "正文" in (await app.send(PROPOSER, "食堂延长营业时间")).text
    assert "请发送文字" in (await app.send(PROPOSER, sticker=True)).text
    await app.send(PROPOSER, "晚上加班的老师吃不上饭。")
    attached = await app.send_file(PROPOSER, "排队照片.pdf", b"%PDF-1.4")
    assert "已附加" in attached.text
    received = await app.send(PROPOSER, "建议营业到 20:00。")
    preview = await app.press(PROPOSER, received.button("完成"))
    assert "食堂延长营业时间" in preview.text and "建议营业到 20:00" in preview.text
    submitted = await app.press(PROPOSER, preview.button("提交"))
    assert "t.me/unionvoice_test_bot?start=p1" in submitted.text

    # Co-signers open the shared link.
    card = await app.send(C1, "/start p1")
    assert "征集附议中" in card.text
    assert "感谢您附议" in (await app.press(C1, card.button("附议"))).text
    assert "已经附议" in (await app.press(C1, cb(ProposalAction.COSIGN))).text
    assert "不能附议自己" in (await app.press(PROPOSER, cb(ProposalAction.COSIGN))).text
    await app.press(C2, cb(ProposalAction.COSIGN))

    # A member cannot review; the officer accepts with a reason and assigns.
    await app.press(C1, cb(ProposalAction.DECIDE, value="accepted"))
    assert "没有权限" in (await app.send(C1, "我批准")).text
    queue = await app.press(OFFICER, MenuCB(action=MenuAction.PROPOSAL_QUEUE))
    review = await app.press(OFFICER, queue.button("食堂延长营业时间"))
    asked = await app.press(OFFICER, review.button("立案"))
    assert "理由" in asked.text
    accepted = await app.send(OFFICER, "涉及全校教职工，同意立案")
    assignment = await app.press(OFFICER, accepted.button("分派"))
    assert "部门" in assignment.text
    departments = assignment.buttons(OFFICER.id)
    assert departments[0][0] == "✅ 后勤处"  # the department with a handler first, marked
    due_asked = await app.send(OFFICER, "后勤处")  # a typed name that is on the roster
    assert "后勤处" in due_asked.text and "截止" in due_asked.text
    assigned = await app.press(OFFICER, due_asked.button("默认"))
    assert "后勤处" in assigned.text
    stale = await app.press(OFFICER, cb(ProposalAction.DECIDE, value="declined"))
    moved = await app.send(OFFICER, "改主意了")  # the reason for an old button
    assert "该提案当前状态：承办部门办理中" in moved.text
    notices = await app.flush_outbox()
    assert notices.sent_to(HANDLER.id), "the department's handler is told"
    assert stale.requests  # asked for a reason; the service then refuses (status moved)

    # The handler asks, the proposer replies, the handler answers, the proposer rates.
    task = await app.press(HANDLER, cb(ProposalAction.VIEW))
    await app.press(HANDLER, task.button("请提案人补充"))
    await app.send(HANDLER, "是哪个食堂？")
    question = (await app.flush_outbox()).sent_to(PROPOSER.id)
    assert "是哪个食堂" in question[-1].text
    await app.press(PROPOSER, cb(ProposalAction.REPLY))
    assert "转给承办部门" in (await app.send(PROPOSER, "二食堂")).text
    await app.press(HANDLER, cb(ProposalAction.ANSWER))
    assert "已发送给提案人" in (await app.send(HANDLER, "二食堂将营业到 20:00。")).text
    to_proposer = (await app.flush_outbox()).sent_to(PROPOSER.id)
    rate = to_proposer[-1]
    assert "已答复" in rate.text and "满意" in str(rate.reply_markup)
    rated = await app.press(PROPOSER, cb(ProposalAction.RATE, value="satisfied"))
    assert "感谢您的评价" in rated.text and "/skip" in rated.text
    assert "已记录" in (await app.send(PROPOSER, "办得很快")).text
    final = await app.press(C2, cb(ProposalAction.VIEW))
    assert "已办结" in final.text and "二食堂将营业到 20:00" in final.text
    board = await app.press(C2, cb(ProposalAction.BOARD, value="0"))
    assert "食堂延长营业时间" in str(board.buttons())
    filters = {text: data for text, data in board.buttons() if not text.startswith("#")}
    closed_only = await app.press(C2, filters["已办结"])
    assert "食堂延长营业时间" in str(closed_only.buttons())
    declined_only = await app.press(C2, filters["不予立案"])
    assert "暂无内容" in declined_only.text
    other_category = await app.press(C2, board.button("#教学科研"))
    assert "暂无内容" in other_category.text

    timeline = await app.press(C2, final.button("办理过程"))
    for step in ("提交", "附议", "已立案", "分派", "答复", "评价", "办得很快", "干部丁"):
        assert step in timeline.text, step
    assert "二食堂" not in timeline.text.replace("二食堂将营业", "")  # the Q&A stays private
    own_view = await app.press(PROPOSER, cb(ProposalAction.TIMELINE))
    assert "是哪个食堂" in own_view.text
    files = await app.press(C2, final.button("附件"))
    assert len([r for r in files.requests if type(r).__name__ == "SendDocument"]) == 1


async def test_members_file_suggestions_and_drafts_stay_private(app, database):
    await everyone(app, database)
    menu = await app.press(C1, MenuCB(action=MenuAction.PROPOSALS))
    assert "提交提案" not in str(menu.buttons())  # only representatives file proposals
    categories = await app.press(C1, menu.button("意见建议"))
    await app.press(C1, categories.button("其他"))
    assert "已失效" in (await app.press(C1, cb(ProposalAction.CATEGORY, value="x-99"))).text
    await app.send(C1, "图书馆延长开放")
    assert "不存在" in (await app.press(C2, cb(ProposalAction.VIEW))).text  # a draft
    assert "最多 20000 字" in (await app.send(C1, "字" * 20_001)).text


THIRD = TgUser(id=9510)


async def test_members_see_how_many_co_signed_but_not_who(app, database):
    await everyone(app, database)
    await seed_roster(database, [("M3", "会员壬", "教务处", "")])
    await register(app, THIRD, "M3", "会员壬")
    categories = await app.press(PROPOSER, cb(ProposalAction.NEW, 0, "proposal"))
    await app.press(PROPOSER, categories.button("后勤服务"))
    await app.send(PROPOSER, "增设教工休息室")
    received = await app.send(PROPOSER, "每栋教学楼一间。")
    preview = await app.press(PROPOSER, received.button("完成"))
    await app.press(PROPOSER, preview.button("提交"))
    await app.press(C1, cb(ProposalAction.COSIGN))
    await app.press(C2, cb(ProposalAction.COSIGN))
    people = ("代表甲", "会员乙", "会员丙")

    card = await app.press(THIRD, cb(ProposalAction.VIEW))
    assert "附议人数：2" in card.text
    timeline = await app.press(THIRD, cb(ProposalAction.TIMELINE))
    steps = timeline.text.splitlines()
    assert len([s for s in steps if s.endswith("· 附议")]) == 2  # one step each: the count
    for name in people:
        assert name not in card.text and name not in timeline.text, name
    # The proposer and officers see who co-signed.
    for insider in (PROPOSER, OFFICER):
        seen = await app.press(insider, cb(ProposalAction.TIMELINE))
        assert all(name in seen.text for name in people), insider


def what_they_see(outcome) -> list[tuple]:
    """Every request of an answer, without the ids that differ from one update to the next."""
    return [
        (type(r).__name__, getattr(r, "text", None), str(getattr(r, "reply_markup", None)))
        for r in outcome.requests
    ]


async def test_forged_buttons_on_someone_elses_draft_answer_like_a_missing_proposal(app, database):
    from handlers.callbacks import ImprovementAction, ImprovementCB

    await everyone(app, database)
    categories = await app.press(PROPOSER, cb(ProposalAction.NEW, 0, "proposal"))
    await app.press(PROPOSER, categories.button("后勤服务"))
    await app.send(PROPOSER, "秘密草稿标题")
    await app.send(PROPOSER, "还没想好要不要交的正文")
    await app.send_file(PROPOSER, "草稿附件.pdf", b"%PDF-1.4")
    draft, missing = 1, 999

    async def forge(attacker: TgUser, proposal_id: int) -> list[list[tuple]]:
        """Every proposal button and link an attacker can forge, with the message each
        state-setting button asks for."""
        seen = []
        for action, value in (
            (ProposalAction.VIEW, ""),
            (ProposalAction.FINISH, ""),
            (ProposalAction.SUBMIT, ""),
            (ProposalAction.COSIGN, ""),
            (ProposalAction.RATE, "satisfied"),
            (ProposalAction.TIMELINE, ""),
            (ProposalAction.FILES, ""),
        ):
            seen.append(what_they_see(await app.press(attacker, cb(action, proposal_id, value))))
        for action, value, texts in (
            (ProposalAction.REPLY, "", ("补充说明",)),
            (ProposalAction.DECIDE, "accepted", ("同意",)),
            (ProposalAction.DECIDE, "merged", ("2", "并案")),
            (ProposalAction.ASSIGN, "", ("后勤处",)),
            (ProposalAction.ANSWER, "", ("答复",)),
            (ProposalAction.ASK, "", ("请说明",)),
        ):
            seen.append(what_they_see(await app.press(attacker, cb(action, proposal_id, value))))
            for text in texts:
                seen.append(what_they_see(await app.send(attacker, text)))
            await app.send(attacker, "/start")  # leaves the step, whatever happened
        improvement = ImprovementCB(action=ImprovementAction.NEW, kind="p", ref_id=proposal_id)
        seen.append(what_they_see(await app.press(attacker, improvement)))
        seen.append(what_they_see(await app.send(attacker, f"/start p{proposal_id}")))
        return seen

    for attacker in (C1, OFFICER):  # a member, and an officer with every proposal power
        on_draft, on_missing = await forge(attacker, draft), await forge(attacker, missing)
        assert on_draft == on_missing, attacker
        assert "秘密草稿标题" not in str(on_draft) and "还没想好" not in str(on_draft)
    # The proposer's draft is untouched and still theirs.
    preview = await app.press(PROPOSER, cb(ProposalAction.FINISH, draft))
    assert "秘密草稿标题" in preview.text and "草稿" not in str(await app.flush_outbox())
