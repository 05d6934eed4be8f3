"""Members' requests about their own data (deletion), kept until an officer acts on them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime, utcnow


class DataRequest(Base):
    __tablename__ = "data_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Erasing the member erases the request with it: nothing of them stays behind.
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="erase")
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | cancelled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
