"""SQLAlchemy models. Times are stored in UTC; shown in the configured time zone."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime, utcnow

# Re-exported: every table can be imported from here (storage/models_members.py: why apart).
from storage.models_members import Member, MemberRole, ProcessedUpdate  # noqa: F401


class NoticeMute(Base):
    """A kind of work notice (e.g. "proposal ready for review") this member chose not to get."""

    __tablename__ = "notice_mutes"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RegistrationRequest(Base):
    """Someone who is not on the roster (or did not match it) asks officers to let them in."""

    __tablename__ = "registration_requests"
    __table_args__ = (Index("ix_registration_requests_telegram_status", "telegram_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger)
    employee_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(8))
    consent_version: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL")
    )


class InviteCode(Base):
    """One-time registration code; only its SHA-256 is stored (the code has 96 random bits)."""

    __tablename__ = "invite_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RoleChange(Base):
    """Append-only audit of who gave or took which role (the repository never updates or
    deletes a row). Erasing a member blanks them here (SET NULL); the row stays."""

    __tablename__ = "role_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # member (an officer or admin in the bot), admin (a configured admin not on the roster),
    # cli, roster (an import), registration (a name match), invite (an invite link)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL")
    )
    actor_telegram_id: Mapped[int | None] = mapped_column(BigInteger)  # configured admins only
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    role: Mapped[str] = mapped_column(String(20))
    # granted, revoked, or linked (an account was linked to a row holding the role)
    change: Mapped[str] = mapped_column(String(8))


class FsmRecord(Base):
    """aiogram FSM state and data, so a half-finished conversation survives a restart."""

    __tablename__ = "fsm_states"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Broadcast(Base):
    """A batch of outbox messages started by someone who watches its progress."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    total: Mapped[int] = mapped_column(default=0)
    progress_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxMedia(Base):
    """A file sent through the outbox; uploaded once, then re-sent by Telegram file_id."""

    __tablename__ = "outbox_media"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    telegram_file_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxMessage(Base):
    """A message the bot sends on its own: queued first, sent once by the sender worker.

    The text is rendered at send time from `template` and `params` in `locale`, so it is
    written in the same transaction as the change that caused it.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_ready", "status", "next_attempt_at"),
        Index("ix_outbox_messages_broadcast_status", "broadcast_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    template: Mapped[str] = mapped_column(String(64))
    params: Mapped[str] = mapped_column(Text, default="{}")
    kind: Mapped[str] = mapped_column(String(16), default="text")
    media_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_media.id", ondelete="RESTRICT"))
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(300))
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The sender process holding the claim (a random token): see OutboxWorker._keep_claims.
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Deleted once sent (or given up): a delivered notice to a confidential sender leaves
    # no row pairing their chat with a time.
    forget: Mapped[bool] = mapped_column(default=False, server_default=false())


class SendBudget(Base):
    """The send pace shared by several instances on one PostgreSQL database (without Redis):
    the next free start time of a bot-wide send slot, pushed forward by every reservation and
    by a 429 flood wait seen by any instance."""

    __tablename__ = "send_budget"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_slot_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Survey(Base):
    """A survey definition as imported (JSON of the validated TOML) and its lifecycle."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(Text)  # JSON {locale: text}
    definition: Mapped[str] = mapped_column(Text)  # the TOML source, re-parsed on load
    anonymous: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | open | closed
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SurveyParticipant(Base):
    """Who was invited and who has finished: never joined to responses (no shared ids, no
    times; WITHOUT ROWID so storage order does not follow the order people finished in)."""

    __tablename__ = "survey_participants"
    __table_args__ = ({"sqlite_with_rowid": False},)

    survey_id: Mapped[int] = mapped_column(
        ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    done: Mapped[bool] = mapped_column(default=False)


class SurveyDraft(Base):
    """Answers given so far (durable before the reply); removed when the response is
    submitted. The only place an unfinished anonymous response is tied to a person."""

    __tablename__ = "survey_drafts"
    __table_args__ = ({"sqlite_with_rowid": False},)

    survey_id: Mapped[int] = mapped_column(
        ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    answers: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    editing: Mapped[str | None] = mapped_column(String(64))  # question being edited from summary
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SurveyResponse(Base):
    """A submitted response. Anonymous: random id, no member, submission day only, and the
    department only where enough people share it."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        # One named response per member and survey; anonymous ones (NULL) are guarded by
        # survey_participants.done, set in the same transaction.
        UniqueConstraint("survey_id", "member_id"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, not sequential
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    department: Mapped[str | None] = mapped_column(String(64))
    submitted_on: Mapped[date] = mapped_column(Date)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # named surveys only


class SurveyAnswer(Base):
    """One value of a response: a chosen option (one row per choice), a number or a text."""

    __tablename__ = "survey_answers"
    __table_args__ = (
        Index("ix_survey_answers_survey_question", "survey_id", "question_id"),
        {"sqlite_with_rowid": False},
    )

    response_id: Mapped[str] = mapped_column(
        ForeignKey("survey_responses.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True, default=0, autoincrement=False)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    option: Mapped[str | None] = mapped_column(String(100))
    number: Mapped[float | None]
    text: Mapped[str | None] = mapped_column(Text)


class Proposal(Base):
    """A proposal (提案) or suggestion (意见建议) and where it stands. Its history is in
    proposal_events; the proposer stays linked unless they leave (then "former member")."""

    __tablename__ = "proposals"
    __table_args__ = (Index("ix_proposals_status_category", "status", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # proposal | suggestion
    category: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(100), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    proposer_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    department: Mapped[str | None] = mapped_column(String(64), index=True)  # handling department
    due_on: Mapped[date | None] = mapped_column(Date)
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("proposals.id", ondelete="SET NULL")
    )
    decision_reason: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rating: Mapped[str | None] = mapped_column(String(16))
    rating_comment: Mapped[str | None] = mapped_column(Text)
    reopen_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ProposalCosigner(Base):
    __tablename__ = "proposal_cosigners"

    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProposalAttachment(Base):
    """A photo or document, by Telegram file id (the file itself stays with Telegram)."""

    __tablename__ = "proposal_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[str] = mapped_column(String(16))  # filing | answer
    kind: Mapped[str] = mapped_column(String(16))  # photo | document
    telegram_file_id: Mapped[str] = mapped_column(String(255))
    file_name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProposalEvent(Base):
    """The timeline: every transition and message, who, when, with a note."""

    __tablename__ = "proposal_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)


# Tables of later features live in their own modules; importing them registers them.
from storage import models_digest, models_mailbox, models_privacy  # noqa: E402,F401
