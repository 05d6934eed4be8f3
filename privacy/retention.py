"""The daily purge: what has been kept long enough goes; only counts are reported."""

from __future__ import annotations

from datetime import datetime, timedelta

from privacy.ports import RetentionRepos
from privacy.settings import RetentionPolicy


async def run_retention(
    repos: RetentionRepos, policy: RetentionPolicy, now: datetime, *, dry_run: bool = False
) -> dict[str, int]:
    """Rows purged (or, with dry_run, that would be) per kind of data."""
    retention = repos.retention

    def ago(days: int) -> datetime:
        return now - timedelta(days=days)

    counts = {
        "handled_letters": await retention.handled_letters(
            ago(policy.handled_letters_days), dry_run
        ),
        "outbox_messages": await retention.outbox(ago(policy.outbox_days), dry_run),
        "processed_updates": await retention.processed_updates(
            ago(policy.processed_updates_days), dry_run
        ),
        "survey_free_text": await retention.survey_free_text(ago(policy.survey_text_days), dry_run),
        "conversations": await retention.conversations(ago(policy.conversations_days), dry_run),
    }
    if dry_run:
        await repos.rollback()
    else:
        await repos.commit()
    return counts
