"""The [outbox] config section, and the settings the sender works with."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from common.settings import Section


@dataclass(frozen=True, slots=True)
class SenderSettings:
    rate_per_second: float = 25.0
    chat_interval: float = 1.05  # a little over Telegram's 1/s, for network jitter
    max_in_flight: int = 8
    max_attempts: int = 10  # backoff 2 s … 300 s: about 13.5 minutes of outage
    backoff_base: float = 2.0  # seconds; doubles per attempt
    backoff_cap: float = 300.0
    retry_after_margin: float = 0.5
    idle_poll: float = 0.5  # how often an idle sender looks for new rows
    # A sent message's outcome is retried this long (a database restart takes seconds): a lost
    # outcome leaves the row 'sending', and another instance sends it again after the lease.
    record_for: float = 30.0
    record_backoff: float = 0.2  # seconds; doubles per try, at most 2 s
    # None: the only sender (its start requeues every claim). Seconds: one of several senders
    # (claims older than this are a dead sender's).
    claim_lease: float | None = None


class OutboxConfig(Section):
    # Telegram allows about 30/s; network jitter bunches requests, so leave headroom.
    rate_per_second: float = Field(default=25.0, gt=0, le=29)
    max_in_flight: int = Field(default=8, ge=1, le=100)
    max_attempts: int = Field(default=10, ge=1, le=20)
    progress_interval: float = Field(default=3.0, ge=1.0, le=60.0)
    # Several instances: a message claimed by an instance that stopped renewing its claim for
    # this long (it died) is sent by another.
    claim_lease: float = Field(default=60.0, ge=1.0, le=3600.0)

    def sender_settings(self, *, shared: bool) -> SenderSettings:
        """`shared`: one of possibly several senders (PostgreSQL), so claims carry a lease."""
        return SenderSettings(
            rate_per_second=self.rate_per_second,
            max_in_flight=self.max_in_flight,
            max_attempts=self.max_attempts,
            claim_lease=self.claim_lease if shared else None,
        )
