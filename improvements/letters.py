"""The mailbox's side of the improvement loop — hooks the mailbox fills in.

An action linked to letters (LinkKind.LETTER, ref_id = letter id) is told, when it closes:
- named and confidential letters: their senders get the "you said, we did" notice through the
  outbox like everyone else → `letter_followers` returns their member ids;
- anonymous letters: nobody can be told (the database cannot link them to a person); the
  notice is shown to whoever checks the letter with its receipt code → `note_on_receipts`
  records it with the letter (e.g. a letter event "improvement closed: <effect>").

Until the mailbox exists both do nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from improvements.model import ActionDTO
    from storage.uow import Repositories


async def letter_followers(repos: Repositories, letter_ids: list[int]) -> set[int]:
    """Member ids of the senders of these letters that are named or confidential (never of
    anonymous ones). TODO(mailbox): SELECT sender_id FROM letters WHERE id IN (…) AND
    identity_mode IN ('named', 'confidential')."""
    return set()


async def note_on_receipts(repos: Repositories, letter_ids: list[int], action: ActionDTO) -> None:
    """Make the action's outcome visible to anonymous senders when they check their receipt.
    TODO(mailbox): add a reply/event to each anonymous letter with action.measures and
    action.effect, in the same transaction as the close."""
    return None
