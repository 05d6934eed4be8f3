"""Mailbox data handed between storage, service and handlers (no ORM, no aiogram)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from common.errors import N_, DomainError


class LetterType(StrEnum):
    REPORT = "report"  # 反映情况
    SUGGESTION = "suggestion"  # 建言献策
    MISCONDUCT = "misconduct"  # 举报问题


class IdentityMode(StrEnum):
    NAMED = "named"
    CONFIDENTIAL = "confidential"
    ANONYMOUS = "anonymous"


class LetterStatus(StrEnum):
    NEW = "new"  # no recipient has opened it yet
    OPEN = "open"  # read, being handled
    HANDLED = "handled"  # closed with an outcome


class Author(StrEnum):
    SENDER = "sender"
    RECIPIENT = "recipient"
    SYSTEM = "system"  # transfers and status changes shown in the thread


class MessageKind(StrEnum):
    LETTER = "letter"  # the sender's follow-ups
    REPLY = "reply"
    QUESTION = "question"  # a recipient asks the sender for more
    OUTCOME = "outcome"  # the handling outcome
    TRANSFER = "transfer"  # text: the note for the new box's recipients
    IMPROVEMENT = "improvement"  # "you said, we did": an improvement action linked to it closed


TYPE_LABELS = {
    LetterType.REPORT: N_("Report a situation"),
    LetterType.SUGGESTION: N_("Make a suggestion"),
    LetterType.MISCONDUCT: N_("Report misconduct"),
}
MODE_LABELS = {
    IdentityMode.NAMED: N_("Named"),
    IdentityMode.CONFIDENTIAL: N_("Confidential"),
    IdentityMode.ANONYMOUS: N_("Anonymous"),
}
# One line each, shown before the sender writes: the exact promise.
MODE_PROMISES = {
    IdentityMode.NAMED: N_("Named: the recipients see your name and department."),
    IdentityMode.CONFIDENTIAL: N_(
        "Confidential: the recipients never see who you are; the bot keeps a sealed link "
        "only to bring you their replies."
    ),
    IdentityMode.ANONYMOUS: N_(
        "Anonymous: nothing links the letter to you, not even for the bot; you read replies "
        "with a receipt code shown once."
    ),
}
STATUS_LABELS = {
    LetterStatus.NEW: N_("new"),
    LetterStatus.OPEN: N_("open"),
    LetterStatus.HANDLED: N_("handled"),
}


@dataclass(frozen=True, slots=True)
class Attachment:
    kind: str  # photo | document
    telegram_file_id: str
    file_name: str | None = None


@dataclass(slots=True)
class Draft:
    """A letter or reply being written: text parts and attachments, until it is sent."""

    text: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    # Telegram's ids of the messages added (per chat, no person in them), so a message
    # delivered again is not added twice: Telegram redelivers an update whose marker was not
    # committed (the database went away after the draft, kept apart from it, had changed).
    message_ids: list[int] = field(default_factory=list)

    def has(self, message_id: int) -> bool:
        return message_id in self.message_ids

    def added(self, message_id: int) -> None:
        self.message_ids = [*self.message_ids, message_id][-MESSAGE_IDS_KEPT:]

    @property
    def is_empty(self) -> bool:
        return not self.text.strip() and not self.attachments

    def add_text(self, text: str, limit: int) -> None:
        """Append one message; long letters arrive in several."""
        joined = _join(self.text, text)
        if len(joined.strip()) > limit:
            raise DomainError(
                N_("The text is too long: at most {limit} characters in all."), limit=limit
            )
        self.text = joined

    def add_attachment(self, attachment: Attachment, limit: int) -> None:
        if len(self.attachments) >= limit:
            raise DomainError(N_("At most {limit} files per message."), limit=limit)
        self.attachments.append(attachment)

    @classmethod
    def joined(cls, parts: list[Draft]) -> Draft:
        """The draft made of parts appended one by one (each checked when it was added)."""
        draft = cls()
        for part in parts:
            if part.message_ids and all(draft.has(i) for i in part.message_ids):
                continue  # the same message appended twice (a redelivered update)
            draft.attachments.extend(part.attachments)
            if part.text:
                draft.text = _join(draft.text, part.text)
            for message_id in part.message_ids:
                draft.added(message_id)
        return draft

    def to_dict(self) -> dict[str, object]:
        return {
            "text": self.text,
            "attachments": [[a.kind, a.telegram_file_id, a.file_name] for a in self.attachments],
            "ids": list(self.message_ids),
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Draft:
        raw = data.get("attachments") or []
        assert isinstance(raw, list)
        ids = data.get("ids") or []
        assert isinstance(ids, list)
        return cls(
            text=str(data.get("text") or ""),
            attachments=[Attachment(str(k), str(f), n) for k, f, n in raw],
            message_ids=[int(i) for i in ids],
        )


# A letter holds at most 10,000 characters and 10 files: far fewer messages than this.
MESSAGE_IDS_KEPT = 200


def _join(text: str, more: str) -> str:
    return f"{text}\n\n{more}" if text else more


@dataclass(frozen=True, slots=True)
class SenderView:
    """Who wrote, as a recipient may see it: only named letters carry a name."""

    name: str | None = None
    department: str | None = None


@dataclass(frozen=True, slots=True)
class LetterDTO:
    id: int
    box: str
    type: LetterType
    mode: IdentityMode
    status: LetterStatus
    body: str
    created_at: datetime
    unread: bool
    first_reply_at: datetime | None
    handled_at: datetime | None
    outcome: str | None
    rating: int | None
    sender: SenderView
    attachments: int = 0


@dataclass(frozen=True, slots=True)
class ThreadMessage:
    seq: int
    author: Author
    kind: MessageKind
    text: str
    created_at: datetime
    box: str | None = None  # transfers: the box it moved to
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class InboxPage:
    letters: list[LetterDTO]
    total: int
    page: int
    per_page: int
