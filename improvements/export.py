"""Every improvement action with its links and evidence, as CSV (UTF-8 with BOM) or XLSX —
`unionvoice actions export`. Chinese headers, like the proposals export."""

from __future__ import annotations

import csv
import io
from typing import Any, BinaryIO, Literal
from zoneinfo import ZoneInfo

from common.tables import FORMULA_START, XLSX_ILLEGAL
from improvements.model import STATUS_LABELS, ActionDTO
from improvements.ports import ImprovementExportRepos

Format = Literal["csv", "xlsx"]
HEADER = [
    "编号",
    "问题",
    "原因分析",
    "改进措施",
    "责任人",
    "部门",
    "完成期限",
    "预期效果",
    "改进成效",
    "成效依据",
    "状态",
    "来源",
    "创建时间",
    "关闭时间",
]
STATUS_ZH = {
    "open": "已立项",
    "in_progress": "整改中",
    "checking": "成效检查",
    "closed": "已完成",
    "dropped": "已撤销",
}


def _evidence(action: ActionDTO) -> str:
    parts = []
    for ev in action.evidence:
        before = "—" if ev.before is None else f"{ev.before:.2f}"
        after = "—" if ev.after is None else f"{ev.after:.2f}"
        parts.append(f"问卷{ev.survey_id}/{ev.question_id} {ev.measure}: {before} → {after}")
    return "; ".join(parts)


def rows(actions: list[ActionDTO], tz: ZoneInfo) -> list[list[Any]]:
    assert set(STATUS_ZH) == {s.value for s in STATUS_LABELS}
    result = []
    for action in actions:
        links = "; ".join(
            f"{link.kind.value}:{link.ref_id}" + (f"/{link.ref_key}" if link.ref_key else "")
            for link in action.links
        )
        result.append(
            [
                action.id,
                action.problem,
                action.cause,
                action.measures,
                action.owner,
                action.department or "",
                action.due_on.isoformat() if action.due_on else "",
                action.expected_effect,
                action.effect or "",
                _evidence(action),
                STATUS_ZH[action.status.value],
                links,
                action.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                action.closed_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
                if action.closed_at
                else "",
            ]
        )
    return result


async def export_actions(
    repos: ImprovementExportRepos, fmt: Format, out: BinaryIO, timezone: str = "Asia/Shanghai"
) -> int:
    """Writes every action to `out`; returns how many."""
    actions = await repos.improvements.all_with_links()
    table = rows(actions, ZoneInfo(timezone))
    if fmt == "csv":
        stream = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
        writer = csv.writer(stream)
        writer.writerow(HEADER)
        for row in table:
            writer.writerow([_defuse(value) for value in row])
        stream.flush()
        stream.detach()
    elif fmt == "xlsx":
        from openpyxl import Workbook
        from openpyxl.styles import Font

        workbook = Workbook()
        sheet = workbook.worksheets[0]  # the workbook's one sheet
        sheet.title = "改进措施"
        sheet.append(HEADER)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table:
            sheet.append([XLSX_ILLEGAL.sub("", v) if isinstance(v, str) else v for v in row])
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
        sheet.freeze_panes = "A2"
        workbook.save(out)
    else:
        raise ValueError(f"unknown export format {fmt!r} (use csv or xlsx)")
    return len(table)


def _defuse(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if isinstance(value, str) and text.startswith(FORMULA_START) else text
