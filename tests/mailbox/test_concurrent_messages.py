"""A sender's follow-up and a recipient's reply to one letter at the same moment. Found by
bench.soak: both took the thread's next number, the second failed on the unique (letter, seq)
index, and its writer was told "something went wrong" for a message that was then lost."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select

from mailboxes.model import Author, MessageKind
from storage.database import Database
from storage.models_mailbox import LetterMessage
from storage.uow import Repositories, unit_of_work
from tests.mailbox.conftest import SENDER, letter_id_in, write_letter

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


async def test_two_people_writing_to_one_letter_at_once_both_get_through(
    people, database: Database
) -> None:
    sent = await write_letter(people, SENDER, "The canteen closes too early.")
    letter_id = letter_id_in(sent.text)

    async with database.sessions() as first_session:
        first = Repositories(first_session)
        seq = await first.mailbox.add_message(
            letter_id, Author.SENDER, MessageKind.LETTER, "One more thing", NOW
        )

        async def reply() -> int:
            async with unit_of_work(database.sessions) as second:
                number = await second.mailbox.add_message(
                    letter_id, Author.RECIPIENT, MessageKind.REPLY, "We are on it", NOW
                )
                await second.commit()
                return number

        # The reply starts while the follow-up is written but not yet committed.
        replying = asyncio.create_task(reply())
        await asyncio.sleep(0.3)
        await first.commit()
        assert sorted([seq, await replying]) == [1, 2]

    async with database.sessions() as session:
        thread = (
            await session.execute(
                select(LetterMessage.seq, LetterMessage.text)
                .where(LetterMessage.letter_id == letter_id)
                .order_by(LetterMessage.seq)
            )
        ).all()
    assert [text for _seq, text in thread] == ["One more thing", "We are on it"]
