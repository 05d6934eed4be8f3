"""A box's letters as CSV or XLSX, for its recipients' records. Identity appears only for named
letters: the export reads the same DTOs as the inbox, which carry nothing else."""

from __future__ import annotations

from typing import BinaryIO
from zoneinfo import ZoneInfo

from common.tables import TableFormat, write_table
from mailboxes.model import Author, IdentityMode, MessageKind
from mailboxes.ports import MailboxExportRepos
from members.dto import FORMER_MEMBER

COLUMNS = [
    *("编号", "类型", "身份方式", "状态", "收信日期", "署名", "部门"),
    *("正文", "往来", "办理结果", "评价"),
]
TYPE_NAMES = {"report": "反映情况", "suggestion": "建言献策", "misconduct": "举报问题"}
MODE_NAMES = {"named": "实名", "confidential": "保密", "anonymous": "匿名"}
STATUS_NAMES = {"new": "未读", "open": "办理中", "handled": "已办结"}
AUTHOR_NAMES = {Author.SENDER: "来信人", Author.RECIPIENT: "收件人", Author.SYSTEM: "系统"}
PAGE = 500


async def export_box(
    repos: MailboxExportRepos, box: str, fmt: TableFormat, out: BinaryIO, timezone: str
) -> int:
    tz = ZoneInfo(timezone)
    rows: list[list[str]] = []
    offset = 0
    while True:
        letters, _total = await repos.mailbox.inbox(
            [box], unread=False, open_only=False, offset=offset, limit=PAGE
        )
        for letter in letters:
            named = letter.mode is IdentityMode.NAMED
            thread = await repos.mailbox.thread(letter.id)
            conversation = "\n".join(
                f"{AUTHOR_NAMES[m.author]}"
                + (f"→{m.box}" if m.kind is MessageKind.TRANSFER else "")
                + f": {m.text}"
                for m in thread
            )
            rows.append(
                [
                    str(letter.id),
                    TYPE_NAMES[letter.type.value],
                    MODE_NAMES[letter.mode.value],
                    STATUS_NAMES[letter.status.value],
                    f"{letter.created_at.astimezone(tz):%Y-%m-%d}",
                    (letter.sender.name or FORMER_MEMBER) if named else "",
                    (letter.sender.department or "") if named else "",
                    letter.body,
                    conversation,
                    letter.outcome or "",
                    str(letter.rating or ""),
                ]
            )
        if len(letters) < PAGE:
            break
        offset += PAGE
    write_table(COLUMNS, rows, fmt, out, sheet_title="来信")
    return len(rows)
