"""The congress report: every proposal with its fields, co-signers, timeline and rating."""

from __future__ import annotations

from typing import BinaryIO
from zoneinfo import ZoneInfo

from common.tables import TableFormat, write_table
from members.dto import FORMER_MEMBER
from proposals.ports import ProposalExportRepos

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


async def proposal_rows(repos: ProposalExportRepos, timezone: str) -> list[list[str]]:
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


async def export_proposals(
    repos: ProposalExportRepos, fmt: TableFormat, out: BinaryIO, timezone: str
) -> int:
    rows = await proposal_rows(repos, timezone)
    write_table(COLUMNS, rows, fmt, out, sheet_title="提案")
    return len(rows)
