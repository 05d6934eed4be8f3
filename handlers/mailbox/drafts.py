"""Adding a message (text, photo, document) to a letter being written."""

from __future__ import annotations

from typing import Any

from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from common.errors import N_, DomainError
from handlers.common import attachment_of
from mailboxes.model import (
    Attachment,
    Draft,
)
from mailboxes.service import ATTACHMENTS_MAX


def parse_choice(enum: type, value: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise DomainError(N_("This button is no longer valid.")) from None


def add_part(message: Message, draft: Draft, limit: int) -> str:
    """Add a message to a draft; the reply to show. Refuses what cannot be kept. A message
    the draft already holds (delivered again) is answered as before and not added twice."""
    attachment = attachment_of(message)
    again = draft.has(message.message_id)
    if attachment is not None:
        if not again:
            draft.add_attachment(Attachment(*attachment), ATTACHMENTS_MAX)
            if message.caption:
                draft.add_text(message.caption, limit)
            draft.added(message.message_id)
        return _("Attached ({count} files).").format(count=len(draft.attachments))
    if message.text is None:
        raise DomainError(N_("Only text, photos and documents can be added. Please send one."))
    if not again:
        draft.add_text(message.text, limit)
        draft.added(message.message_id)
    return _("Received ({length} characters so far).").format(length=len(draft.text))
