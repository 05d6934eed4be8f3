"""The congress report: every proposal with its fields, co-signers, timeline and rating."""

from __future__ import annotations

import csv
import io
from typing import BinaryIO, Literal
from zoneinfo import ZoneInfo

from storage.uow import Repositories

FORMER_MEMBER = "（已离会）"  # proposer or co-signer who has left the union
COLUMNS = [
    "编号",
    "类型",
    "类别",
    "标题",
    "正文",
    "状态",
    "提案人",
    "提案人部门",
    "附议人",
    "承办部门",
    "办理期限",
    "处理意见",
    "答复",
    "满意度",
    "满意度说明",
    "办理过程",
]


async def proposal_rows(repos: Repositories, timezone: str) -> list[list[str]]:
    tz = ZoneInfo(timezone)
    rows: list[list[str]] = []
    for proposal in await repos.proposals.all_submitted():
        cosigner_ids = await repos.proposals.cosigner_ids(proposal.id)
        events = await repos.proposals.events(proposal.id)
        people = await repos.proposals.names(
            [i for i in [proposal.proposer_id, *cosigner_ids] if i is not None]
        )
        actors = await repos.proposals.names([e.actor_id for e in events if e.actor_id])
        proposer = people.get(proposal.proposer_id or -1, (FORMER_MEMBER, ""))
        timeline = "\n".join(
            f"{e.at.astimezone(tz):%Y-%m-%d %H:%M} {e.action}"
            + (f" · {actors[e.actor_id][0]}" if e.actor_id in actors else "")
            + (f" · {e.note}" if e.note else "")
            for e in events
        )
        rows.append(
            [
                str(proposal.id),
                proposal.kind.value,
                proposal.category,
                proposal.title,
                proposal.body,
                proposal.status.value,
                proposer[0],
                proposer[1],
                "、".join(people.get(i, (FORMER_MEMBER, ""))[0] for i in cosigner_ids),
                proposal.department or "",
                proposal.due_on.isoformat() if proposal.due_on else "",
                proposal.decision_reason or "",
                proposal.answer or "",
                proposal.rating.value if proposal.rating else "",
                proposal.rating_comment or "",
                timeline,
            ]
        )
    return rows


def _safe(cell: str) -> str:
    # Spreadsheets run cells that start like a formula; proposals are user text.
    return "'" + cell if cell[:1] in ("=", "+", "-", "@") else cell


async def export_proposals(
    repos: Repositories, fmt: Literal["csv", "xlsx"], out: BinaryIO, timezone: str
) -> int:
    rows = await proposal_rows(repos, timezone)
    if fmt == "csv":
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows([[_safe(c) for c in row] for row in rows])
        out.write(text.getvalue().encode("utf-8-sig"))
        return len(rows)
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "提案"
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_safe(c) for c in row])
    for column in sheet.columns:
        for cell in column:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    workbook.save(out)
    return len(rows)
