"""`unionvoice members audit` and the invite table: members' commands that only format data.

Imports neither aiogram nor SQLAlchemy at module level (the CLI stays fast)."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, BinaryIO

from bot.cli_support import run_export
from bot.config import Config
from members.dto import FORMER_MEMBER

if TYPE_CHECKING:
    from storage.uow import Repositories

AUDIT_COLUMNS = ["changed_at", "actor", "employee_id", "name", "role", "change"]
INVITE_COLUMNS = ["employee_id", "name", "link"]


def invite_table(links: Sequence[tuple[str, str, str]]) -> bytes:
    """employee_id, name, link as spreadsheet-safe CSV (a mail merge opens it in Excel)."""
    from common.tables import write_table

    out = io.BytesIO()
    write_table(INVITE_COLUMNS, [list(link) for link in links], "csv", out, sheet_title="invites")
    return out.getvalue()


def _actor(kind: str, telegram_id: int | None, employee_id: str | None, name: str | None) -> str:
    if kind == "member":
        return f"{name} ({employee_id})" if employee_id else FORMER_MEMBER
    if kind == "admin":
        return f"admin (Telegram {telegram_id})"
    return kind  # cli, roster, registration (a name match), invite (an invite link)


async def cmd_members_audit(config: Config, args: argparse.Namespace) -> int:
    async def export(repos: Repositories, out: BinaryIO) -> int:
        from bot.services import Services
        from common.tables import write_table

        rows = await Services(config).membership(repos).role_audit()
        records = [
            {
                "changed_at": row.changed_at.isoformat(timespec="seconds"),
                "actor": _actor(
                    row.actor_kind, row.actor_telegram_id, row.actor_employee_id, row.actor_name
                ),
                "employee_id": row.employee_id or "",
                "name": row.name if row.name is not None else FORMER_MEMBER,
                "role": row.role,
                "change": row.change,
            }
            for row in rows
        ]
        if args.format == "json":
            out.write(json.dumps(records, ensure_ascii=False, indent=2).encode() + b"\n")
        else:
            table = [[record[column] for column in AUDIT_COLUMNS] for record in records]
            write_table(AUDIT_COLUMNS, table, "csv", out, sheet_title="audit")
        return len(records)

    return await run_export(config, args, export, "role change")
