"""`unionvoice` command line. Commands that never talk to Telegram do not import aiogram."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.cli_data import (
    cmd_mailbox_export,
    cmd_members_forget,
    cmd_proposals_export,
    cmd_retention_run,
)
from bot.cli_digest import cmd_actions_export, cmd_digest_preview, cmd_digest_send
from bot.cli_members import cmd_members_audit, invite_table
from bot.cli_support import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    with_database,
)
from bot.cli_surveys import (
    cmd_survey_export_definition,
    cmd_survey_import,
    cmd_survey_list,
    cmd_survey_open_or_close,
    cmd_survey_results,
    cmd_survey_template,
)
from bot.config import DEFAULT_CONFIG_PATH, Config, ConfigError, load_config

if TYPE_CHECKING:
    from storage.database import Database

EXPORT_COLUMNS = ["employee_id", "name", "department", "role", "telegram_id"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="unionvoice", description="Union bot: surveys, proposals, mailbox, digests."
    )
    parser.add_argument(
        "--config", type=Path, default=None, help=f"config file (default: {DEFAULT_CONFIG_PATH})"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run", help="run the bot (long polling or webhook); without a token: the local sandbox"
    )
    run.add_argument("--config", type=Path, default=argparse.SUPPRESS)

    sandbox = commands.add_parser(
        "sandbox", help="try the bot without Telegram: a chat page at http://127.0.0.1:8080"
    )
    sandbox.add_argument("--config", type=Path, default=argparse.SUPPRESS)
    sandbox.add_argument("--host", default="127.0.0.1", help="address (default: 127.0.0.1)")
    sandbox.add_argument("--port", type=int, default=8080, help="port (default: 8080)")
    sandbox.add_argument(
        "--demo", action="store_true", help="seed a roster, a survey, a proposal to try"
    )
    sandbox.add_argument(
        "--database",
        type=Path,
        default=None,
        help="SQLite file to keep between runs (default: a fresh one in a temporary folder)",
    )

    db = commands.add_parser("db", help="database maintenance").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("upgrade", help="apply all migrations")
    db.add_parser(
        "backup", help="copy the SQLite database while the bot runs (PostgreSQL: pg_dump)"
    ).add_argument("file", type=Path, help="new file for the copy")

    members = commands.add_parser("members", help="the roster").add_subparsers(
        dest="members_command", required=True
    )
    importing = members.add_parser("import", help="import or update the roster (CSV or XLSX)")
    importing.add_argument("file", type=Path)
    listing = members.add_parser("list", help="print members")
    listing.add_argument("--format", choices=("csv", "json"), default="csv")
    invite = members.add_parser("invite", help="print one-tap registration links")
    invite.add_argument("employee_id", nargs="?", help="one member's link")
    invite.add_argument(
        "--all", action="store_true", help="a fresh link for every member not registered yet"
    )
    invite.add_argument(
        "--format", choices=("text", "csv"), default="text", help="csv: employee_id,name,link"
    )
    audit = members.add_parser("audit", help="every role change: who, whom, which role, when")
    audit.add_argument("--format", choices=("csv", "json"), default="csv")
    audit.add_argument("--output", type=Path, default=None, help="file (default: stdout)")

    survey = commands.add_parser("survey", help="survey definitions and lifecycle").add_subparsers(
        dest="survey_command", required=True
    )
    survey_import = survey.add_parser(
        "import", help="validate and store a definition: the Excel workbook (.xlsx) or TOML"
    )
    survey_import.add_argument("file", type=Path)
    template = survey.add_parser(
        "template", help="the Excel template with instructions and an example (to stdout)"
    )
    template.add_argument("--format", choices=("xlsx", "toml"), default="xlsx")
    template.add_argument("--output", type=Path, default=None, help="file (default: stdout)")
    definition = survey.add_parser(
        "export-definition", help="a survey's definition as a workbook or TOML, to edit"
    )
    definition.add_argument("survey_id", metavar="ID")
    definition.add_argument("--format", choices=("xlsx", "toml"), default="xlsx")
    definition.add_argument("--output", type=Path, default=None, help="file (default: stdout)")
    survey.add_parser("list", help="list surveys")
    for name, text in (("open", "open and invite the audience"), ("close", "close")):
        survey.add_parser(name, help=text).add_argument("survey_id", metavar="ID")
    results = survey.add_parser("results", help="export results")
    results.add_argument("survey_id", metavar="ID")
    results.add_argument("--format", choices=("csv", "xlsx", "json"), default="csv")
    results.add_argument("--output", type=Path, default=None, help="file (default: stdout)")

    proposals = commands.add_parser("proposals", help="proposals (提案)").add_subparsers(
        dest="proposals_command", required=True
    )
    proposals_export = proposals.add_parser("export", help="all proposals with their history")
    proposals_export.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    proposals_export.add_argument(
        "--output", type=Path, default=None, help="file (default: stdout)"
    )

    forget = members.add_parser(
        "forget", help="erase a member's data and Telegram id (their right to deletion)"
    )
    forget.add_argument("employee_id", metavar="EMPLOYEE_ID")

    retention = commands.add_parser("retention", help="purge data kept long enough").add_subparsers(
        dest="retention_command", required=True
    )
    retention_run = retention.add_parser("run", help="purge now (the bot does it daily)")
    retention_run.add_argument("--dry-run", action="store_true", help="only count what would go")

    mailbox = commands.add_parser("mailbox", help="院长/书记信箱").add_subparsers(
        dest="mailbox_command", required=True
    )
    mailbox_export = mailbox.add_parser(
        "export", help="a box's letters (names only for named letters)"
    )
    mailbox_export.add_argument("box", metavar="BOX", help="box key, e.g. principal")
    mailbox_export.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    mailbox_export.add_argument("--output", type=Path, default=None, help="file (default: stdout)")

    digest = commands.add_parser("digest", help="weekly digests").add_subparsers(
        dest="digest_command", required=True
    )
    digest_send = digest.add_parser(
        "send", help="queue a period's digest for whoever has not had it (the bot sends it)"
    )
    digest_send.add_argument("--period", required=True, help="ISO week, e.g. 2026-W48")
    digest_send.add_argument(
        "--resend", action="store_true", help="also send it again to those who had it"
    )
    digest_preview = digest.add_parser("preview", help="print a digest in the terminal")
    digest_preview.add_argument("--period", default=None, help="ISO week (default: latest due)")
    digest_preview.add_argument(
        "--audience",
        default="officers",
        help="officers (default), box:<key> or department:<name>",
    )

    actions = commands.add_parser("actions", help="improvement actions (诊改)").add_subparsers(
        dest="actions_command", required=True
    )
    actions_export = actions.add_parser("export", help="every action with its links and effect")
    actions_export.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    actions_export.add_argument("--output", type=Path, default=None, help="file (default: stdout)")

    outbox = commands.add_parser("outbox", help="messages the bot sends on its own").add_subparsers(
        dest="outbox_command", required=True
    )
    outbox.add_parser("status", help="queued / sending / sent / unreachable / failed")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    handler = _COMMANDS[(args.command, getattr(args, f"{args.command}_command", None))]
    try:
        return asyncio.run(handler(config, args))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


SANDBOX_FALLBACK_HINT = (
    "No bot token configured: starting the local sandbox with demo data instead. "
    "To connect a real bot: BOT_TOKEN=123456:ABC… unionvoice run (token from @BotFather)."
)


async def cmd_run(config: Config, _args: argparse.Namespace) -> int:
    if config.telegram.token is None:
        from bot.sandbox import SandboxOptions

        print(SANDBOX_FALLBACK_HINT, file=sys.stderr)
        return await _run_sandbox(config, SandboxOptions(demo=True))
    from bot.app import run_bot

    await run_bot(config)
    return EXIT_OK


async def cmd_sandbox(config: Config, args: argparse.Namespace) -> int:
    from bot.sandbox import SandboxOptions

    options = SandboxOptions(host=args.host, port=args.port, database=args.database, demo=args.demo)
    return await _run_sandbox(config, options)


async def _run_sandbox(config: Config, options: object) -> int:
    from bot.sandbox import SandboxOptions, run_sandbox

    assert isinstance(options, SandboxOptions)

    def ready(url: str) -> None:
        print(f"Sandbox ready: open {url} in a browser (Ctrl+C stops it).", file=sys.stderr)
        if options.host not in ("127.0.0.1", "localhost", "::1"):
            print(
                f"warning: {options.host} is reachable from other machines and the sandbox "
                "has no login: anyone who can reach it can act as any persona.",
                file=sys.stderr,
            )

    try:
        await run_sandbox(config, options, on_ready=ready)
    except OSError as exc:  # the port is taken, or the address is not ours
        print(f"error: cannot serve on {options.host}:{options.port}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


async def cmd_db_upgrade(config: Config, _args: argparse.Namespace) -> int:
    async def done(database: Database) -> int:
        from storage import migrate

        print(f"database at revision {await migrate.current_revision(database.engine)}")
        return EXIT_OK

    return await with_database(config, done)


async def cmd_db_backup(config: Config, args: argparse.Namespace) -> int:
    from storage.backup import BackupError, backup_sqlite

    try:
        size = await asyncio.to_thread(backup_sqlite, config.database.url, args.file)
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(f"backup written to {args.file} ({size:,} bytes)")
    return EXIT_OK


async def cmd_members_import(config: Config, args: argparse.Namespace) -> int:
    from members.roster import RosterFormatError, parse_roster

    try:
        rows, errors = parse_roster(args.file)
    except RosterFormatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if errors:
        for error in errors:
            print(f"{args.file}:{error.line}: {error.message}", file=sys.stderr)
        print(f"nothing imported: {len(errors)} problem(s) in {args.file}", file=sys.stderr)
        return EXIT_ERROR

    async def work(database: Database) -> int:
        from bot.services import Services
        from storage.uow import unit_of_work

        async with unit_of_work(database.sessions) as repos:
            # With the boxes: recipients hear when the roster makes someone one of them.
            service = Services(config).membership(repos)
            summary = await service.import_roster(rows)
        print(
            f"imported {len(rows)} member(s): {summary.created} new, {summary.updated} updated, "
            f"{summary.role_changes} role change(s) recorded in the audit"
        )
        return EXIT_OK

    return await with_database(config, work)


async def cmd_members_list(config: Config, args: argparse.Namespace) -> int:
    async def work(database: Database) -> int:
        from bot.services import Services
        from storage.uow import unit_of_work

        async with unit_of_work(database.sessions) as repos:
            members = await Services(config).membership(repos).list_members()
        write_members(members, args.format, sys.stdout)
        return EXIT_OK

    return await with_database(config, work)


def write_members(members: Sequence[object], fmt: str, out: TextIO) -> None:
    from common.tables import safe_cell
    from members.dto import MemberDTO
    from members.roles import Role

    records = []
    for member in members:
        assert isinstance(member, MemberDTO)
        records.append(
            {
                "employee_id": member.employee_id,
                "name": member.name,
                "department": member.department,
                "role": ";".join(r.value for r in Role if r in member.roles),
                "telegram_id": member.telegram_id,
            }
        )
    if fmt == "json":
        json.dump(records, out, ensure_ascii=False, indent=2)
        out.write("\n")
        return
    writer = csv.DictWriter(
        out,
        fieldnames=EXPORT_COLUMNS,  # the import format's columns: export, edit, import again
        lineterminator="\n",
    )
    writer.writeheader()
    # Spreadsheet-safe: a name starting with = + - @ is not run as a formula (the import
    # takes the guarding apostrophe off again, so an export can be edited and re-imported).
    writer.writerows(
        {key: safe_cell(str(value or "")) for key, value in r.items()} for r in records
    )


async def cmd_members_invite(config: Config, args: argparse.Namespace) -> int:
    if bool(args.all) == bool(args.employee_id):
        print("error: give an employee id or --all", file=sys.stderr)
        return EXIT_USAGE
    username = config.telegram.bot_username or await _fetch_bot_username(config)
    ttl = timedelta(days=config.registration.invite_ttl_days)

    async def work(database: Database) -> int:
        from bot.services import Services
        from common.errors import DomainError
        from members.service import INVITE_PREFIX, Invite
        from storage.uow import unit_of_work

        async with unit_of_work(database.sessions) as repos:
            service = Services(config).membership(repos)
            try:
                if args.all:
                    invites = await service.create_invites_for_unlinked(ttl)
                else:
                    code = await service.create_invite(args.employee_id, ttl)
                    invites = [Invite(args.employee_id, "", code)]
            except DomainError as exc:
                print(f"error: {exc.message_id.format(**exc.params)}", file=sys.stderr)
                return EXIT_ERROR
        links = [
            (i.employee_id, i.name, f"https://t.me/{username}?start={INVITE_PREFIX}{i.code}")
            for i in invites
        ]
        if args.format == "csv":
            sys.stdout.buffer.write(invite_table(links))
            sys.stdout.flush()
        else:
            for employee_id, name, link in links:
                print(link if not args.all else f"{employee_id}\t{name}\t{link}")
        print(f"({len(links)} link(s); one use, valid {ttl.days} days)", file=sys.stderr)
        return EXIT_OK

    return await with_database(config, work)


async def _fetch_bot_username(config: Config) -> str:
    """Ask Telegram (or the configured Bot API server) for the bot's username."""
    from bot.factory import create_bot

    bot = create_bot(config)
    try:
        me = await bot.get_me()
    finally:
        await bot.session.close()
    if not me.username:
        raise ConfigError("[telegram] bot_username: the bot has no username; set it in config")
    return me.username


async def cmd_outbox_status(config: Config, _args: argparse.Namespace) -> int:
    async def work(database: Database) -> int:
        from storage.uow import unit_of_work

        async with unit_of_work(database.sessions) as repos:
            counts = await repos.outbox.counts()
            broadcasts = await repos.outbox.unfinished_broadcasts()
            progress = [(b, await repos.outbox.progress(b.id)) for b in broadcasts]
        width = max(len(status) for status in counts)
        for status, count in counts.items():
            print(f"{status:<{width}}  {count:>8,}")
        for broadcast, done in progress:
            print(
                f"broadcast #{broadcast.id} {broadcast.title}: {done.done:,} / {done.total:,} done"
            )
        return EXIT_OK

    return await with_database(config, work)


_COMMANDS: dict[
    tuple[str, str | None], Callable[[Config, argparse.Namespace], Coroutine[Any, Any, int]]
] = {
    ("run", None): cmd_run,
    ("sandbox", None): cmd_sandbox,
    ("db", "upgrade"): cmd_db_upgrade,
    ("db", "backup"): cmd_db_backup,
    ("members", "import"): cmd_members_import,
    ("members", "list"): cmd_members_list,
    ("members", "invite"): cmd_members_invite,
    ("members", "forget"): cmd_members_forget,
    ("members", "audit"): cmd_members_audit,
    ("retention", "run"): cmd_retention_run,
    ("outbox", "status"): cmd_outbox_status,
    ("survey", "import"): cmd_survey_import,
    ("survey", "list"): cmd_survey_list,
    ("survey", "open"): cmd_survey_open_or_close,
    ("survey", "close"): cmd_survey_open_or_close,
    ("survey", "results"): cmd_survey_results,
    ("survey", "template"): cmd_survey_template,
    ("survey", "export-definition"): cmd_survey_export_definition,
    ("proposals", "export"): cmd_proposals_export,
    ("mailbox", "export"): cmd_mailbox_export,
    ("digest", "send"): cmd_digest_send,
    ("digest", "preview"): cmd_digest_preview,
    ("actions", "export"): cmd_actions_export,
}

if __name__ == "__main__":
    sys.exit(main())
