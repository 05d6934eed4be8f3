"""Mailbox conversations through the real Dispatcher: sender, principal, secretary, officer."""

from __future__ import annotations

from handlers.callbacks import InboxAction, InboxCB, MailboxAction, MailboxCB, MenuAction, MenuCB
from tests.conftest import register, seed_roster
from tests.harness import TgUser
from tests.mailbox.conftest import (
    OFFICER,
    OTHER,
    PRINCIPAL,
    SECRETARY,
    SENDER,
    letter_id_in,
    receipt_code_in,
    release_sender_notices,
    write_letter,
)


def inbox(action: InboxAction, letter_id: int, **fields) -> InboxCB:
    return InboxCB(action=action, letter_id=letter_id, **fields)


async def test_named_letter_reply_follow_up_outcome_and_rating(people):
    app = people
    sent = await write_letter(app, SENDER, "The library closes at 17:00.", "Please open later.")
    letter_id = letter_id_in(sent.text)
    assert "You will be told here when the recipients reply" in sent.text

    notice = (await app.flush_outbox()).sent_to(PRINCIPAL.id)
    assert len(notice) == 1 and f"new letter #{letter_id}" in notice[0].text
    assert not (await app.flush_outbox()).requests  # told once, and nobody else was

    listed = await app.send(PRINCIPAL, "/inbox")
    assert "1 letters" in listed.text and f"#{letter_id}" in str(listed.buttons())
    card = await app.press(PRINCIPAL, listed.button(f"#{letter_id}"))
    assert "From: Mei Lin · Physics" in card.text
    assert "The library closes at 17:00.\n\nPlease open later." in card.text

    await app.press(PRINCIPAL, card.button("Reply"))
    await app.send(PRINCIPAL, "We will discuss it on Monday.")
    done = await app.press(PRINCIPAL, inbox(InboxAction.SEND, letter_id))
    assert f"letter #{letter_id}" in done.text
    told = (await app.flush_outbox()).sent_to(SENDER.id)
    assert f"Principal's mailbox replied to your letter #{letter_id}" in told[0].text

    mine = await app.press(SENDER, told[0].reply_markup.inline_keyboard[0][0].callback_data)
    assert "We will discuss it on Monday." in mine.text
    await app.press(SENDER, mine.button("Add a message"))
    added = await app.send(SENDER, "Thank you, weekends too please.")
    assert "Added to your letter" in added.text
    activity = (await app.flush_outbox()).sent_to(PRINCIPAL.id)
    assert f"Letter #{letter_id}" in activity[0].text

    await app.press(PRINCIPAL, inbox(InboxAction.HANDLE, letter_id))
    handled = await app.send(PRINCIPAL, "From 1 December the library closes at 21:00.")
    assert "marked handled" in handled.text
    outcome = (await app.flush_outbox()).sent_to(SENDER.id)
    assert "has handled your letter" in outcome[0].text and "rate" in outcome[0].text

    view = await app.press(SENDER, MailboxCB(action=MailboxAction.OPEN, letter_id=letter_id))
    assert "21:00" in view.text
    assert "Thank you for your rating" in (await app.press(SENDER, view.button("★★★★★"))).text
    again = await app.press(
        SENDER, MailboxCB(action=MailboxAction.RATE, letter_id=letter_id, value=1)
    )
    assert "already rated" in again.text
    late = await app.press(SENDER, MailboxCB(action=MailboxAction.FOLLOW, letter_id=letter_id))
    assert "has been handled" in late.text
    stale = await app.press(PRINCIPAL, inbox(InboxAction.REPLY, letter_id))
    assert "handled already" in stale.text


async def test_confidential_letter_never_shows_who_wrote(people, database, db_url):
    app = people
    sent = await write_letter(
        app, SENDER, "Overtime is not paid in our lab.", box="secretary", mode="confidential"
    )
    letter_id = letter_id_in(sent.text)
    await app.flush_outbox()
    card = await app.press(SECRETARY, inbox(InboxAction.OPEN, letter_id))
    assert "confidential sender (identity not shown)" in card.text
    assert "Mei" not in card.text and "Physics" not in card.text and "M1" not in card.text

    await app.press(SECRETARY, inbox(InboxAction.ASK, letter_id))
    await app.send(SECRETARY, "Since when?")
    await app.press(SECRETARY, inbox(InboxAction.SEND, letter_id))
    assert not (await app.flush_outbox()).sent_to(SENDER.id), "told by the sweep's batch"
    await release_sender_notices(database, db_url)
    told = (await app.flush_outbox()).sent_to(SENDER.id)
    assert "news on your confidential letter" in told[0].text
    assert str(letter_id) not in told[0].text  # the notice names no letter, box or kind
    assert "secretary" not in told[0].text and "question" not in told[0].text

    mine = await app.press(SENDER, MailboxCB(action=MailboxAction.MINE))
    opened = await app.press(SENDER, mine.button(f"#{letter_id}"))
    assert "Since when?" in opened.text


async def test_each_box_is_visible_to_its_recipients_only(people):
    app = people
    letter_id = letter_id_in((await write_letter(app, SENDER, "For the principal.")).text)
    for outsider in (SECRETARY, OFFICER, OTHER):
        refused = await app.press(outsider, inbox(InboxAction.OPEN, letter_id))
        assert "For the principal." not in refused.text
    not_yours = await app.press(SECRETARY, inbox(InboxAction.OPEN, letter_id))
    assert "does not exist or is not in your mailbox" in not_yours.text
    nothing = await app.press(SECRETARY, inbox(InboxAction.OPEN, 123456789))
    assert nothing.text == not_yours.text  # an existing letter of another box looks the same
    assert "not allowed" in (await app.send(OFFICER, "/inbox")).text
    assert "not allowed" in (await app.press(OTHER, inbox(InboxAction.REPLY, letter_id))).text
    assert "0 letters" in (await app.send(SECRETARY, "/inbox")).text
    # A member cannot open someone else's letter as its sender.
    guessed = await app.press(OTHER, MailboxCB(action=MailboxAction.OPEN, letter_id=letter_id))
    assert "does not exist" in guessed.text
    # Forged callback data: no crash, a clear answer.
    for forged in ("ib1:o:abc:0:o:", "ib1:zz:1:0:o:", "mb1:m:0:principal:report:sneaky::0"):
        assert (await app.press(SECRETARY, forged)).text


async def test_transfer_moves_the_letter_and_tells_the_sender_only_the_box(people):
    app = people
    letter_id = letter_id_in((await write_letter(app, SENDER, "A party matter.")).text)
    await app.flush_outbox()
    choices = await app.press(PRINCIPAL, inbox(InboxAction.TRANSFER, letter_id))
    await app.press(PRINCIPAL, choices.button("secretary"))
    moved = await app.send(PRINCIPAL, "Belongs to the party committee.")
    assert "transferred" in moved.text
    sent = await app.flush_outbox()
    assert f"Letter #{letter_id}" in sent.sent_to(SECRETARY.id)[0].text
    sender_notice = sent.sent_to(SENDER.id)[0].text
    assert "transferred to the Party secretary's mailbox" in sender_notice
    assert "Wang" not in sender_notice

    gone = await app.press(PRINCIPAL, inbox(InboxAction.OPEN, letter_id))
    assert "does not exist or is not in your mailbox" in gone.text
    card = await app.press(SECRETARY, inbox(InboxAction.OPEN, letter_id))
    assert "Belongs to the party committee." in card.text
    view = await app.press(SENDER, MailboxCB(action=MailboxAction.OPEN, letter_id=letter_id))
    assert "Transferred to Party secretary's mailbox" in view.text
    assert "Belongs to the party committee." not in view.text  # the note is for recipients


async def test_bad_input_gets_clear_replies_and_changes_nothing(people, app):
    menu = await app.press(SENDER, MenuCB(action=MenuAction.MAILBOX))
    types = await app.press(SENDER, menu.button("Principal"))
    modes = await app.press(SENDER, types.button("Report a situation"))
    await app.press(SENDER, modes.button("Named"))
    empty = await app.press(SENDER, MailboxCB(action=MailboxAction.PREVIEW))
    assert "empty" in empty.text
    assert "Only text, photos and documents" in (await app.send(SENDER, sticker=True)).text
    assert "at most 10000 characters" in (await app.send(SENDER, "字" * 10_001)).text
    await app.send(SENDER, "a" * 4000)
    await app.send(SENDER, "b" * 4000)
    refused = await app.send(SENDER, "c" * 4000)
    assert "at most 10000 characters" in refused.text
    attached = await app.send_file(SENDER, "photo-of-notice.pdf", b"%PDF-1.4")
    assert "Attached (1 files)" in attached.text
    sent = await app.press(SENDER, MailboxCB(action=MailboxAction.SEND))
    letter_id = letter_id_in(sent.text)
    again = await app.press(SENDER, MailboxCB(action=MailboxAction.SEND))
    assert "no letter being written" in again.text

    card = await app.press(PRINCIPAL, InboxCB(action=InboxAction.OPEN, letter_id=letter_id))
    texts = [r.text for r in card.sent_to(PRINCIPAL.id)]
    assert len(texts) == 3 and all(len(t) <= 4096 for t in texts)
    assert "aaaa" in "".join(texts) and "bbbb" in "".join(texts) and "cccc" not in "".join(texts)
    assert "Files: 1" in texts[0]
    files = await app.press(PRINCIPAL, card.button("Files"))
    assert "SendDocument" in [type(r).__name__ for r in files.requests]

    assert "not allowed" not in (await app.press(SENDER, MenuCB(action=MenuAction.MAILBOX))).text
    bad_box = await app.press(SENDER, MailboxCB(action=MailboxAction.BOX, box="nope"))
    assert "no longer valid" in bad_box.text


async def test_chinese_is_the_default_language_of_the_mailbox(people, app, database):
    zhang = TgUser(id=8199, first_name="张", language_code="zh-hans")
    await seed_roster(database, [("Z1", "张老师", "数学学院", "")])
    await register(app, zhang, "Z1", "张老师")
    menu = await app.press(zhang, MenuCB(action=MenuAction.MAILBOX))
    types = await app.press(zhang, menu.button("院长信箱"))
    modes = await app.press(zhang, types.button("举报问题"))
    assert "匿名" in modes.text and "保密" in modes.text and "实名" in modes.text
    await app.press(zhang, modes.button("匿名"))
    await app.send(zhang, "食堂卫生有问题。")
    preview = await app.press(zhang, MailboxCB(action=MailboxAction.PREVIEW))
    sent = await app.press(zhang, preview.button("发送"))
    assert "回执码" in sent.text
    code = receipt_code_in(sent.text)
    assert "食堂卫生有问题。" in (await app.send(zhang, f"/receipt {code}")).text
