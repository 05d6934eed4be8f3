"""A part of a letter delivered again, after its step was done but its update not marked as
processed, is not added twice.

Found by the scale-out soak: PostgreSQL stopped just after a named letter's part had gone into
the draft (conversation state in Redis), so the update's marker was not committed; the
instance answered 503, Telegram delivered the update again, and the letter arrived with that
part twice. Anonymous drafts are kept apart from the database too. The draft now remembers the
Telegram ids of the messages it holds.
"""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from handlers.callbacks import MailboxAction, MailboxCB
from storage.uow import Repositories
from tests.harness import BotDriver
from tests.mailbox.conftest import SENDER
from tests.mailbox.test_failure_logs import start_letter

PART = "The canteen closes before the evening classes end."


@pytest.mark.parametrize("mode", ["named", "anonymous"])
async def test_a_part_delivered_again_after_its_marker_was_lost_is_kept_once(
    people: BotDriver, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    app = people
    await start_letter(app, mode)
    update = app.message_update(SENDER, PART)

    commit = Repositories.commit
    refused: list[bool] = []

    async def server_gone_at_commit(self: Repositories) -> None:
        if not refused:
            refused.append(True)
            raise OperationalError("COMMIT", {}, ConnectionRefusedError("server restarting"))
        await commit(self)

    monkeypatch.setattr(Repositories, "commit", server_gone_at_commit)
    await app.feed(update)  # the part is in the draft; the update's marker is not
    assert refused, "the marker's commit was refused"
    again = await app.feed(update)  # Telegram delivers it again
    assert "characters so far" in again.text, "answered as the first time"

    preview = await app.press(SENDER, MailboxCB(action=MailboxAction.PREVIEW))
    assert preview.text.count(PART) == 1, preview.text
    sent = await app.press(SENDER, preview.button("Send"))
    assert "Sent" in sent.text


async def test_a_new_message_with_the_same_words_is_a_new_part(people: BotDriver) -> None:
    """Only the same message is recognised: a person may well send the same words twice."""
    app = people
    await start_letter(app, "named")
    await app.send(SENDER, PART)
    await app.send(SENDER, PART)
    preview = await app.press(SENDER, MailboxCB(action=MailboxAction.PREVIEW))
    assert preview.text.count(PART) == 2
