"""Mailbox tables. What each column may hold is part of the privacy promise (docs/privacy.md):

- `member_id` only for named letters;
- `sender_tag` (keyed HMAC of the member id) and `sender_seal` (AES-GCM of the member id) only
  for confidential letters: useless without the installation's secret key;
- `receipt_hash` (scrypt of the receipt code) only for anonymous letters, whose times are
  stored at day precision.

Ids of letters, messages and attachments are random, not sequential, so their order reveals
nothing about when an anonymous letter arrived between others.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime, utcnow


class Letter(Base):
    __tablename__ = "mailbox_letters"
    __table_args__ = (
        Index("ix_mailbox_letters_box_status", "box", "status"),
        # The digest's figures: letters of a week, and letters still waiting for a reply.
        Index("ix_mailbox_letters_created_at", "created_at"),
        Index("ix_mailbox_letters_first_reply_at", "first_reply_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    box: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="new")
    body: Mapped[str] = mapped_column(Text)
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    sender_tag: Mapped[str | None] = mapped_column(String(64), index=True)
    sender_seal: Mapped[bytes | None] = mapped_column(LargeBinary)
    receipt_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    unread: Mapped[bool] = mapped_column(default=True)
    # Anonymous activity is told to recipients by the sweep, not at the moment it happens.
    pending_notice: Mapped[bool] = mapped_column(default=False)
    # News for a confidential sender waits for the sweep's batch (no time, no chat here).
    sender_notice: Mapped[bool] = mapped_column(default=False, server_default=false())
    first_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LetterMessage(Base):
    """The thread after the letter: follow-ups, replies, questions, outcome, transfers."""

    __tablename__ = "mailbox_messages"
    __table_args__ = (UniqueConstraint("letter_id", "seq"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    letter_id: Mapped[int] = mapped_column(
        ForeignKey("mailbox_letters.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int]
    author: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    box: Mapped[str | None] = mapped_column(String(16))  # transfers: the new box
    # The recipient who wrote it (recipients are named to each other, never to the sender).
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LetterAttachment(Base):
    """A photo or document by Telegram file id; seq 0 belongs to the letter itself."""

    __tablename__ = "mailbox_attachments"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    letter_id: Mapped[int] = mapped_column(
        ForeignKey("mailbox_letters.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(16))
    telegram_file_id: Mapped[str] = mapped_column(String(255))
    file_name: Mapped[str | None] = mapped_column(String(255))


class MailboxAudit(Base):
    """Every read and action of a recipient on a letter."""

    __tablename__ = "mailbox_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(
        ForeignKey("mailbox_letters.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
