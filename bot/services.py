"""The composition root of the services: the one place that builds them from the `Config`.

`Services` is made once per process (bot, scheduler, CLI command, sandbox, benchmark): it
turns the config sections into the settings objects once. Services themselves live for one
unit of work (`Repositories`): `services.proposals(repos)` and friends are plain constructor
calls with those prebuilt settings. In the bot, `for_update()` builds an update's services
lazily: the middlewares inject only those the matched handler names (bot/middlewares.py).

No aiogram here: CLI commands build their services through this module too.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import Config, ConfigError
from common.clock import Clock, system_clock
from common.secrets import decode_key, load_or_create_key
from mailboxes.settings import (
    ANONYMOUS_WINDOW,
    RECEIPT_FAILURES,
    RECEIPT_WINDOW,
    MailboxContext,
    MailboxGuards,
)

# The services are imported where they are built: a CLI command loads only the one it uses
# (`members list` skips the digest renderer, the survey workbook, the cipher: bench/cli_bench.py).
if TYPE_CHECKING:
    from redis.asyncio import Redis

    from digest.service import DigestService
    from improvements.service import ImprovementService
    from mailboxes.memory import AnonymousStore
    from mailboxes.service import MailboxService
    from members.picker import MemberPicker
    from members.service import MembershipService
    from privacy.service import DataRightsService
    from proposals.service import ProposalService
    from storage.uow import Repositories
    from surveys.drafts import SurveyDrafts
    from surveys.service import SurveyService
    from todo.service import NoticeSettings, TodoService


class Services:
    """Settings built once from the config; services built per unit of work from them.

    With Redis (several instances), the mailbox's limits and anonymous sessions live there,
    shared by every instance; without it, in this process's memory.
    """

    def __init__(
        self,
        config: Config,
        *,
        clock: Clock = system_clock,
        redis: Redis | None = None,
        mailbox_context: MailboxContext | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self._redis = redis
        union = config.union
        self.timezone = union.timezone
        self.small_group = config.surveys.small_group
        self._admins = frozenset(union.admins)
        self._match_by_name = config.registration.match_by_name
        self.proposal_settings = config.proposals.settings(union.timezone)
        self.mailbox_settings = config.mailbox.settings(union.timezone)
        self.digest_settings = config.digest.settings(
            union.timezone, small_group=self.small_group, mailbox=config.mailbox
        )
        self.improvement_settings = config.digest.improvement_settings(union.timezone)
        self.retention_policy = config.retention.policy()
        # Built at first use: it reads (or creates) the key file, which commands that never
        # touch the mailbox should not do.
        self._mailbox_context = mailbox_context
        self._secret_key: bytes | None = None

    # -- shared by every update ---------------------------------------------------------------
    def secret_key(self) -> bytes:
        """[mailbox] secret_key, or the key file (created with a new random key if missing).

        Webhook mode needs the key in the config: several instances must share one key, and a
        key file created on each machine would differ (receipts and seals would work on one
        only)."""
        if self._secret_key is None:
            section = self.config.mailbox
            if section.secret_key is not None:
                self._secret_key = decode_key(section.secret_key.get_secret_value())
            elif self.config.telegram.mode == "webhook":
                raise ConfigError(
                    "[mailbox] secret_key: required in webhook mode, the same on every instance "
                    "(e.g. `openssl rand -base64 32`)"
                )
            else:
                self._secret_key = load_or_create_key(Path(section.key_file))
        return self._secret_key

    @property
    def mailbox_context(self) -> MailboxContext:
        """The boxes, the key and the guards every update shares."""
        if self._mailbox_context is None:
            key = self.secret_key()
            per_day = self.mailbox_settings.anonymous_per_day
            guards = MailboxGuards.create(per_day)
            if self._redis is not None:
                from mailboxes.redis_memory import RedisLimit

                guards = MailboxGuards(
                    anonymous_letters=RedisLimit(
                        self._redis, key, "letters", per_day, ANONYMOUS_WINDOW
                    ),
                    receipt_failures=RedisLimit(
                        self._redis, key, "receipt-failures", RECEIPT_FAILURES, RECEIPT_WINDOW
                    ),
                )
            from mailboxes.sealing import Sealer

            self._mailbox_context = MailboxContext(
                settings=self.mailbox_settings, sealer=Sealer(key), guards=guards
            )
        return self._mailbox_context

    def anonymous_sessions(self) -> AnonymousStore:
        """Anonymous drafts and receipt sessions: in Redis when several instances may share
        the work (the next message can reach another one), else in this process's memory."""
        if self._redis is None:
            from mailboxes.memory import AnonymousSessions

            return AnonymousSessions()
        from mailboxes.redis_memory import RedisAnonymousSessions

        return RedisAnonymousSessions(self._redis, self.secret_key())

    # -- per unit of work ---------------------------------------------------------------------
    def membership(self, repos: Repositories) -> MembershipService:
        from members.service import MembershipService

        return MembershipService(
            repos,
            admins=self._admins,
            clock=self.clock,
            boxes=self.mailbox_settings.boxes,
            match_by_name=self._match_by_name,
        )

    def surveys(self, repos: Repositories) -> SurveyService:
        from surveys.service import SurveyService

        return SurveyService(
            repos, timezone=self.timezone, small_group=self.small_group, clock=self.clock
        )

    def survey_drafts(
        self, repos: Repositories, surveys: SurveyService | None = None
    ) -> SurveyDrafts:
        from surveys.drafts import SurveyDrafts

        return SurveyDrafts(
            surveys or self.surveys(repos), repos, timezone=self.timezone, clock=self.clock
        )

    def proposals(self, repos: Repositories) -> ProposalService:
        from proposals.service import ProposalService

        return ProposalService(repos, self.proposal_settings, clock=self.clock)

    def mailbox(self, repos: Repositories) -> MailboxService:
        from mailboxes.service import MailboxService

        return MailboxService(repos, self.mailbox_context, clock=self.clock)

    def todo(self, repos: Repositories, mailbox: MailboxService | None = None) -> TodoService:
        from todo.service import TodoService

        return TodoService(
            repos, self.proposal_settings, mailbox or self.mailbox(repos), clock=self.clock
        )

    def notice_settings(self, repos: Repositories) -> NoticeSettings:
        from todo.service import NoticeSettings

        return NoticeSettings(repos)

    def data_rights(self, repos: Repositories) -> DataRightsService:
        from privacy.service import DataRightsService

        return DataRightsService(repos, self.mailbox_context.sealer, clock=self.clock)

    def improvements(
        self,
        repos: Repositories,
        *,
        mailbox: MailboxService | None = None,
        surveys: SurveyService | None = None,
    ) -> ImprovementService:
        """Without `mailbox` (jobs, CLI) letters linked to an action are left out of its
        notices: only the mailbox can unseal confidential senders."""
        from improvements.service import ImprovementService

        return ImprovementService(
            repos,
            self.improvement_settings,
            clock=self.clock,
            mailbox=mailbox,
            surveys=surveys or self.surveys(repos),
        )

    def digest(self, repos: Repositories) -> DigestService:
        from digest.service import DigestService

        return DigestService(repos, self.digest_settings, clock=self.clock)

    def member_picker(self, repos: Repositories) -> MemberPicker:
        from members.picker import MemberPicker

        return MemberPicker(repos)

    def for_update(self, repos: Repositories) -> UpdateServices:
        """The services of one update, each built when a handler first asks for it."""
        return UpdateServices(self, repos)


# What handlers may ask for by keyword, besides `repos`, `membership` and `identity` (which the
# update middleware always sets: it needs them to identify the sender).
HANDLER_SERVICES = frozenset(
    {
        "surveys",
        "survey_drafts",
        "proposals",
        "mailbox",
        "todo",
        "notice_settings",
        "data_rights",
        "improvements",
        "digest",
        "member_picker",
    }
)


class UpdateServices:
    """One update's services, built lazily: most updates (an answer button, a menu) need one
    or two of them, so only those are built. Services that use another one share this
    update's instance (one survey service, one mailbox service: one cache per update)."""

    def __init__(self, services: Services, repos: Repositories) -> None:
        self._services = services
        self._repos = repos
        self._built: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        """The service handlers know as `name` (one of HANDLER_SERVICES)."""
        found = self._built.get(name)
        if found is None:
            found = self._built[name] = self._build(name)
        return found

    def _build(self, name: str) -> Any:
        services, repos = self._services, self._repos
        match name:
            case "survey_drafts":
                return services.survey_drafts(repos, self.get("surveys"))
            case "todo":
                return services.todo(repos, self.get("mailbox"))
            case "improvements":
                return services.improvements(
                    repos, mailbox=self.get("mailbox"), surveys=self.get("surveys")
                )
            case _:
                return getattr(services, name)(repos)
