"""The shared send budget on PostgreSQL: one row, moved forward atomically per reservation."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# clock_timestamp(): the server's clock now, not the transaction's start, so every instance
# books against one clock.
_RESERVE = text(
    """
    INSERT INTO send_budget (name, next_slot_at)
    VALUES (:name, clock_timestamp() + make_interval(secs => :gap))
    ON CONFLICT (name) DO UPDATE
    SET next_slot_at = greatest(send_budget.next_slot_at, clock_timestamp())
        + make_interval(secs => :gap)
    RETURNING extract(epoch FROM next_slot_at - clock_timestamp()) - :gap
    """
)
_PAUSE = text(
    """
    INSERT INTO send_budget (name, next_slot_at)
    VALUES (:name, clock_timestamp() + make_interval(secs => :seconds))
    ON CONFLICT (name) DO UPDATE
    SET next_slot_at = greatest(
        send_budget.next_slot_at, clock_timestamp() + make_interval(secs => :seconds)
    )
    """
)

_REMAINING = text(
    "SELECT extract(epoch FROM next_slot_at - clock_timestamp()) FROM send_budget "
    "WHERE name = :name"
)


class SendBudgetRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def reserve(self, name: str, gap: float) -> float:
        """Book the next slot; seconds until it starts (0 or less: now)."""
        return float(await self._session.scalar(_RESERVE, {"name": name, "gap": gap}) or 0.0)

    async def pause(self, name: str, seconds: float) -> None:
        """Nothing starts before now + seconds (a 429 flood wait)."""
        await self._session.execute(_PAUSE, {"name": name, "seconds": seconds})

    async def remaining(self, name: str) -> float:
        """Seconds until the named slot (≤ 0: past, or none booked)."""
        return float(await self._session.scalar(_REMAINING, {"name": name}) or 0.0)
