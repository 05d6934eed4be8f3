"""Storage implements every feature's ports (docs/architecture.md).

Nothing calls `_implements`: mypy checks its assignments structurally, so a repository method
renamed or changed on either side fails the type check instead of a user's update.
tests/unit/test_ports.py checks the same names and parameters at run time.
"""

from __future__ import annotations

from common.ports import UnitOfWorkFactory
from digest.ports import DigestRepos, SectionRepos
from improvements.ports import ImprovementExportRepos, ImprovementRepos
from mailboxes.ports import MailboxExportRepos, MailboxRepos
from members.ports import MemberRepos, PickerRepos
from outbox.ports import BudgetRepos, OutboxRepos, SenderRepos
from privacy.ports import PrivacyRepos, RetentionRepos
from proposals.ports import ProposalExportRepos, ProposalRepos
from storage.database import Database
from storage.uow import Repositories
from surveys.ports import ResultsRepos, SurveyRepos
from todo.ports import HeldNoticeRepos, NoticeRepos, TodoRepos

# Every holder protocol a service receives; the run-time test walks this list.
HOLDERS: tuple[type, ...] = (
    DigestRepos,
    SectionRepos,
    ImprovementRepos,
    ImprovementExportRepos,
    MailboxRepos,
    MailboxExportRepos,
    MemberRepos,
    PickerRepos,
    OutboxRepos,
    SenderRepos,
    BudgetRepos,
    PrivacyRepos,
    RetentionRepos,
    ProposalRepos,
    ProposalExportRepos,
    SurveyRepos,
    ResultsRepos,
    TodoRepos,
    NoticeRepos,
    HeldNoticeRepos,
)


def _implements(repos: Repositories, database: Database) -> None:  # pragma: no cover
    digest: DigestRepos = repos
    sections: SectionRepos = repos
    improvements: ImprovementRepos = repos
    improvement_export: ImprovementExportRepos = repos
    mailbox: MailboxRepos = repos
    mailbox_export: MailboxExportRepos = repos
    members: MemberRepos = repos
    picker: PickerRepos = repos
    outbox: OutboxRepos = repos
    sender: SenderRepos = repos
    budget: BudgetRepos = repos
    privacy: PrivacyRepos = repos
    retention: RetentionRepos = repos
    proposals: ProposalRepos = repos
    proposal_export: ProposalExportRepos = repos
    surveys: SurveyRepos = repos
    results: ResultsRepos = repos
    todo: TodoRepos = repos
    notices: NoticeRepos = repos
    held: HeldNoticeRepos = repos
    sender_units: UnitOfWorkFactory[SenderRepos] = database
    budget_units: UnitOfWorkFactory[BudgetRepos] = database
    del digest, sections, improvements, improvement_export, mailbox, mailbox_export, members
    del picker, outbox, sender, budget, privacy, retention, proposals, proposal_export
    del surveys, results, todo, notices, held, sender_units, budget_units
