"""Templates of mailbox messages the bot sends on its own. Params always carry `box`.

Notices to a confidential sender carry nothing at all (no letter, box or kind) and are queued
by the sweep in batches: the outbox row then links the chat to "one of the letters with news
since the last batch", not to a letter."""

from __future__ import annotations

LETTER_NEW = "mailbox.new"  # to recipients: letter_id, type, mode
LETTER_ACTIVITY = "mailbox.activity"  # to recipients: letter_id (a follow-up or transfer)
LETTER_OVERDUE = "mailbox.overdue"  # to recipients: letter_id, days
SENDER_NEWS = "mailbox.sender"  # to a named sender: letter_id, kind
CONFIDENTIAL_NEWS = "mailbox.confidential"  # to a confidential sender: no params
