"""Templates of mailbox messages the bot sends on its own. Params always carry `box`.

Notices to a confidential sender carry no letter number: the outbox row then links the chat
to "a reply arrived", not to a letter."""

from __future__ import annotations

LETTER_NEW = "mailbox.new"  # to recipients: letter_id, type, mode
LETTER_ACTIVITY = "mailbox.activity"  # to recipients: letter_id (a follow-up or transfer)
LETTER_OVERDUE = "mailbox.overdue"  # to recipients: letter_id, days
SENDER_NEWS = "mailbox.sender"  # to the sender: letter_id (named only), kind
