"""CLI commands of the surveys: the Excel template, import (TOML or workbook), export of a
definition, list, open or close, export results.
None of them imports aiogram."""

from __future__ import annotations

import argparse
import io
import sys
from typing import TYPE_CHECKING

from bot.cli_support import EXIT_ERROR, EXIT_OK, with_database, write_output
from bot.config import Config

if TYPE_CHECKING:
    from storage.database import Database
    from storage.uow import Repositories
    from surveys.drafts import SurveyDrafts
    from surveys.service import SurveyService


def _survey_service(config: Config, repos: Repositories) -> SurveyService:
    from bot.services import Services

    return Services(config).surveys(repos)


async def cmd_survey_import(config: Config, args: argparse.Namespace) -> int:
    """A TOML file, or an Excel/WPS workbook (anything not named .toml is checked as one)."""
    from surveys.definition import DefinitionError
    from surveys.workbook import WorkbookError

    workbook = args.file.suffix.lower() != ".toml"
    try:
        content = args.file.read_bytes()
        source = "" if workbook else content.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: {args.file}: cannot read ({exc})", file=sys.stderr)
        return EXIT_ERROR

    async def work(database: Database) -> int:
        from storage.uow import unit_of_work

        async with unit_of_work(database.sessions) as repos:
            try:
                if workbook:
                    survey, created = await _drafts(config, repos).import_workbook(
                        content, str(args.file)
                    )
                else:
                    survey, created = await _survey_service(config, repos).import_definition(
                        source, str(args.file)
                    )
            except (DefinitionError, WorkbookError) as exc:
                problems = exc.render() if isinstance(exc, WorkbookError) else exc.problems
                for problem in problems:
                    print(problem, file=sys.stderr)
                print(f"nothing stored: {len(problems)} problem(s)", file=sys.stderr)
                return EXIT_ERROR
        verb = "imported" if created else "updated"
        questions = len(survey.definition.questions)
        print(f"{verb} survey {survey.slug} ({questions} questions, {survey.status})")
        return EXIT_OK

    return await with_database(config, work)


def _drafts(config: Config, repos: Repositories) -> SurveyDrafts:
    from bot.services import Services

    return Services(config).survey_drafts(repos)


async def cmd_survey_template(config: Config, args: argparse.Namespace) -> int:
    """The Excel template (the example survey with instructions), or the example as TOML."""
    from zoneinfo import ZoneInfo

    from surveys import library
    from surveys.workbook import definition_workbook

    if args.format == "toml":
        content = library.template_source(library.EXAMPLE).encode("utf-8")
    else:
        tz = ZoneInfo(config.union.timezone)
        content = definition_workbook(library.template_definition(library.EXAMPLE, tz), tz)
    write_output(args, content)
    return EXIT_OK


async def cmd_survey_export_definition(config: Config, args: argparse.Namespace) -> int:
    """A survey's definition as the Excel workbook or as TOML: edit it and import it again."""

    async def work(database: Database) -> int:
        from common.errors import DomainError
        from storage.uow import unit_of_work

        async with unit_of_work(database.sessions) as repos:
            try:
                content = await _drafts(config, repos).export_definition(
                    args.survey_id, args.format
                )
            except DomainError as exc:
                print(f"error: {exc.message_id.format(**exc.params)}", file=sys.stderr)
                return EXIT_ERROR
        write_output(args, content)
        return EXIT_OK

    return await with_database(config, work)


async def cmd_survey_list(config: Config, _args: argparse.Namespace) -> int:
    async def work(database: Database) -> int:
        from storage.uow import unit_of_work

        async with unit_of_work(database.sessions) as repos:
            service = _survey_service(config, repos)
            surveys = await service.list()
            for survey in surveys:
                invited, finished = await repos.surveys.participation(survey.id)
                kind = "anonymous" if survey.anonymous else "named"
                print(
                    f"{survey.slug}\t{survey.status}\t{kind}\t{finished}/{invited}\t"
                    f"{survey.definition.title.get('zh')}"
                )
        return EXIT_OK

    return await with_database(config, work)


async def cmd_survey_open_or_close(config: Config, args: argparse.Namespace) -> int:
    async def work(database: Database) -> int:
        from common.errors import DomainError
        from storage.uow import unit_of_work

        async with unit_of_work(database.sessions) as repos:
            service = _survey_service(config, repos)
            try:
                if args.survey_command == "open":
                    outcome = await service.open(args.survey_id)
                    print(
                        f"opened {args.survey_id}: {outcome.invited} member(s) invited "
                        "(the running bot sends the invitations)"
                    )
                else:
                    await service.close(args.survey_id)
                    print(f"closed {args.survey_id}")
            except DomainError as exc:
                print(f"error: {exc.message_id.format(**exc.params)}", file=sys.stderr)
                return EXIT_ERROR
        return EXIT_OK

    return await with_database(config, work)


async def cmd_survey_results(config: Config, args: argparse.Namespace) -> int:
    async def work(database: Database) -> int:
        from common.errors import DomainError
        from storage.uow import unit_of_work
        from surveys.export import export_results

        async with unit_of_work(database.sessions) as repos:
            try:
                survey = await _survey_service(config, repos).by_slug(args.survey_id)
            except DomainError as exc:
                print(f"error: {exc.message_id.format(**exc.params)}", file=sys.stderr)
                return EXIT_ERROR
            if args.output is None:
                buffer = io.BytesIO()
                rows = await export_results(
                    repos,
                    survey,
                    args.format,
                    buffer,
                    timezone=config.union.timezone,
                    small_group=config.surveys.small_group,
                )
                sys.stdout.buffer.write(buffer.getvalue())
                sys.stdout.flush()
            else:
                with args.output.open("wb") as out:
                    rows = await export_results(
                        repos,
                        survey,
                        args.format,
                        out,
                        timezone=config.union.timezone,
                        small_group=config.surveys.small_group,
                    )
        print(f"{rows} response(s) exported", file=sys.stderr)
        return EXIT_OK

    return await with_database(config, work)
