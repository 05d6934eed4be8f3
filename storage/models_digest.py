"""Weekly digests (what was built and who got it) and improvement actions (诊改) with links to
what members said. Registered on Base.metadata by the import at the bottom of storage.models."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime, utcnow


class Digest(Base):
    """One digest as built for one audience and period: a JSON snapshot of its figures, so a
    re-send shows exactly what was sent the first time."""

    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("period", "audience"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(10))  # ISO week, "2026-W48"
    audience: Mapped[str] = mapped_column(String(100))  # officers | box:<key> | department:<name>
    data: Mapped[str] = mapped_column(Text)  # JSON
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DigestDelivery(Base):
    """A member got the digest of a period. Written in the same transaction as the outbox
    messages: the unique key makes the delivery exactly-once across restarts and instances."""

    __tablename__ = "digest_deliveries"
    __table_args__ = (UniqueConstraint("member_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(10), index=True)
    digest_id: Mapped[int] = mapped_column(ForeignKey("digests.id", ondelete="CASCADE"))
    resent: Mapped[int] = mapped_column(default=0)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ImprovementAction(Base):
    """An improvement action: problem, cause, measures, owner, due date, expected and measured
    effect. Owned by a member (owner_id) or by a department's handlers."""

    __tablename__ = "improvement_actions"
    __table_args__ = (Index("ix_improvement_actions_status_due", "status", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    problem: Mapped[str] = mapped_column(Text)
    cause: Mapped[str] = mapped_column(Text, default="")
    measures: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(64), default="")  # as shown
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    department: Mapped[str | None] = mapped_column(String(64), index=True)
    due_on: Mapped[date | None] = mapped_column(Date)
    expected_effect: Mapped[str] = mapped_column(Text, default="")
    effect: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)  # JSON list of measured figures
    status: Mapped[str] = mapped_column(String(16), default="open")
    reason: Mapped[str | None] = mapped_column(Text)  # why it was dropped
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ImprovementLink(Base):
    """Where an action came from, generically: (kind, ref_id, ref_key).

    proposal: (proposal id, None); question: (survey id, question id); letter: (letter id,
    None); theme: (digest id, keyword). `baseline` is a linked question's score when linked.
    """

    __tablename__ = "improvement_links"
    __table_args__ = (
        UniqueConstraint("action_id", "kind", "ref_id", "ref_key"),
        Index("ix_improvement_links_kind_ref", "kind", "ref_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(
        ForeignKey("improvement_actions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    ref_id: Mapped[int]
    ref_key: Mapped[str] = mapped_column(String(100), default="")
    baseline: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
