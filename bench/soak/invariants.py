"""The soak's verdict: each invariant checked by code against the database, Redis, the fake
Telegram's records and the instances' logs, and printed with its count."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.soak.scenario import Ledger, Person, World
from bench.soak.telegram import SoakTelegram, buttons
from bench.soak.topology import Delivery
from storage.database import Database
from tests.dbdump import dump_with_columns, raw_sqlite_bytes

CONTENT_TOKEN = re.compile(r"建议[0-9a-f]{10}|\[L\d{3}[a-z]\d*\]")
UNHANDLED = (
    "Task exception was never retrieved",
    "Error handling request",  # aiohttp: an exception left the webhook handler
    "Cause exception while process update",  # aiogram: it left the error router
    "background task failed",
    "Exception in callback",
    "CRITICAL",
)
EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Busy)\b")
MEMBER_COLUMNS = re.compile(r"(member_id|actor_id|proposer_id|recipient_id|decided_by)$")


@dataclass
class Verdict:
    name: str
    ok: bool
    detail: str


def _row_text(row: dict[str, Any]) -> str:
    return "\x1f".join("" if v is None else str(v) for v in row.values())


async def redis_dump(url: str) -> list[str]:
    """Every key and value in the Redis database, as text (values of every type)."""
    if not url:
        return []
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    found: list[str] = []
    try:
        async for key in client.scan_iter(count=500):
            kind = (await client.type(key)).decode()
            if kind == "string":
                value: Any = await client.get(key)
            elif kind == "hash":
                value = await client.hgetall(key)
            elif kind == "list":
                value = await client.lrange(key, 0, -1)
            elif kind == "set":
                value = await client.smembers(key)
            elif kind == "zset":
                value = await client.zrange(key, 0, -1, withscores=True)
            else:
                value = kind
            found.append(f"{key!r} {value!r}")
    finally:
        await client.aclose()
    return found


class Judge:
    def __init__(
        self, *, database: Database, db_url: str, redis_url: str, world: World, ledger: Ledger,
        fake: SoakTelegram, delivery: Delivery, survey_id: int, max_in_flight: int, kills: int,
        logs: list[Path], memory: dict[str, tuple[int, int]], memory_bound_mb: int,
        erased_member_id: int | None,
    ) -> None:  # fmt: skip
        self.database = database
        self.db_url = db_url
        self.redis_url = redis_url
        self.world = world
        self.ledger = ledger
        self.fake = fake
        self.delivery = delivery
        self.survey_id = survey_id
        self.max_in_flight = max_in_flight
        self.kills = kills
        self.logs = logs
        self.memory = memory
        self.memory_bound_mb = memory_bound_mb
        self.erased_member_id = erased_member_id
        self.verdicts: list[Verdict] = []

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.verdicts.append(Verdict(name, ok, detail))

    async def run(self) -> list[Verdict]:
        self.tables = await dump_with_columns(self.database)
        self.redis = await redis_dump(self.redis_url)
        self.member_ids = {row["telegram_id"]: row["id"] for row in self.tables["members"]
                           if row.get("telegram_id")}  # fmt: skip
        self._answers()
        self._letters()
        self._proposals()
        self._registrations()
        self._invitations()
        self._digests()
        self._limits()
        self._redelivered()
        self._anonymity()
        self._erasure()
        self._logs()
        self._memory()
        self._flows()
        return self.verdicts

    # -- exactly once ----------------------------------------------------------------------------
    def _answers(self) -> None:
        responses = [r for r in self.tables["survey_responses"] if r["survey_id"] == self.survey_id]
        ids = {r["id"] for r in responses}
        stored: Counter[tuple[str, Any]] = Counter()
        for answer in self.tables["survey_answers"]:
            if answer["response_id"] in ids:
                value = answer["option"] or answer["text"]
                value = value if value is not None else float(answer["number"])
                stored[(answer["question_id"], value)] += 1
        expected = self.ledger.survey_answers
        completed = len(self.ledger.completed)
        missing, extra = expected - stored, stored - expected
        self.check(
            "survey answers exactly once",
            len(responses) == completed and not missing and not extra,
            f"{completed} members submitted ({len(self.ledger.started)} started, "
            f"{self.ledger.edits} went back and changed an answer, "
            f"{self.ledger.abandoned_then_resumed} left and resumed); {len(responses)} "
            f"responses, {sum(stored.values())} answers stored; missing {sum(missing.values())},"
            f" extra {sum(extra.values())}",
        )

    def _letters(self) -> None:
        bodies = self.tables["mailbox_letters"]
        messages = self.tables["mailbox_messages"]
        bad: list[str] = []
        parts = follow_ups = replies = ratings = 0
        for record in self.ledger.letters:
            # The confirmed letter once; an earlier attempt whose confirmation was lost (the
            # person wrote again) is another letter with other parts, not a duplicate.
            mine = [b for b in bodies if b["id"] == record.letter_id]
            if len(mine) != 1:
                bad.append(f"{record.marker}: {len(mine)} letters")
                continue
            body = mine[0]["body"]
            everywhere = "\n".join(b["body"] or "" for b in bodies)
            for marker in record.tried_parts:
                count = everywhere.count(f"[{marker}]")
                confirmed = marker in record.parts
                if count > 1 or (confirmed and body.count(f"[{marker}]") != 1):
                    bad.append(f"{marker} x{count}")
            parts += len(record.parts)
            for marker, seen in ((f"{record.marker}f1", record.follow_ups),
                                 (f"{record.marker}r1", record.replies)):  # fmt: skip
                count = sum(m["text"].count(f"[{marker}]") for m in messages)
                if count > 1 or (marker in seen and count != 1):
                    bad.append(f"{marker} x{count}")
            follow_ups += len(record.follow_ups)
            replies += len(record.replies)
            if record.rating:
                ratings += 1
                if mine[0]["rating"] != record.rating:
                    bad.append(f"{record.marker} rating {mine[0]['rating']}")
        modes = Counter(r.mode for r in self.ledger.letters)
        self.check(
            "letters exactly once",
            not bad,
            f"{len(self.ledger.letters)} letters ({dict(modes)}), {parts} parts, {replies} "
            f"replies, {follow_ups} follow-ups, {ratings} ratings"
            + (f"; WRONG {bad[:8]}" if bad else ""),
        )

    def _proposals(self) -> None:
        bad: list[str] = []
        cosigns = rated = 0
        for record in self.ledger.proposals:
            rows = [
                p
                for p in self.tables["proposals"]
                if p["status"] != "draft" and f"[{record.marker}" in f"{p['title']} {p['body']}"
            ]
            if len(rows) != 1:
                bad.append(f"{record.marker}: {len(rows)} proposals")
                continue
            proposal = rows[0]
            text = f"{proposal['title']}\n{proposal['body']}"
            for marker in (f"[{record.marker}]", f"[{record.marker}b]"):
                if text.count(marker) != 1:
                    bad.append(f"{record.marker}: text {marker} x{text.count(marker)}")
            signed = [c for c in self.tables["proposal_cosigners"]
                      if c["proposal_id"] == proposal["id"]]  # fmt: skip
            # Everyone thanked is counted once; a press whose answer was lost at most once.
            thanked = {self.member_ids.get(t) for t in record.cosigners}
            pressed = {self.member_ids.get(t) for t in record.pressed}
            stored = [c["member_id"] for c in signed]
            if not thanked <= set(stored) <= pressed or len(stored) != len(set(stored)):
                bad.append(f"{record.marker}: {len(signed)} co-signs, {len(thanked)} thanked")
            cosigns += len(signed)
            events = Counter(e["action"] for e in self.tables["proposal_events"]
                             if e["proposal_id"] == proposal["id"])  # fmt: skip
            doubled = {a: n for a, n in events.items() if n > 1 and a != "cosigned"}
            if doubled:
                bad.append(f"{record.marker}: events twice {doubled}")
            if record.rated:
                rated += 1
                if proposal["rating"] != "satisfied":
                    bad.append(f"{record.marker}: rating {proposal['rating']}")
        self.check(
            "proposals, co-signs and ratings exactly once",
            not bad,
            f"{len(self.ledger.proposals)} proposals, {cosigns} co-signs, "
            f"{sum(r.answered for r in self.ledger.proposals)} answered, {rated} rated"
            + (f"; WRONG {bad[:8]}" if bad else ""),
        )

    def _registrations(self) -> None:
        linked = set(self.member_ids)
        lost = {t for t in self.ledger.registered_by_chat if t not in linked}
        erased = self.ledger.erased.telegram_id if self.ledger.erased else None
        lost.discard(erased)  # type: ignore[arg-type]
        approved = {r["id"] for r in self.tables["registration_requests"]
                    if r.get("status") == "approved"}  # fmt: skip
        unapproved = self.ledger.approved - approved
        self.check(
            "registrations and approvals kept",
            not lost and not unapproved,
            f"{len(self.ledger.registered_by_chat)} registered in chat, "
            f"{len(self.ledger.approved)} approved by the officer; lost {len(lost)}, "
            f"approvals not stored {len(unapproved)}",
        )

    # -- broadcasts ------------------------------------------------------------------------------
    def _accepted_sends(self, chat: int, predicate: Any) -> int:
        return sum(
            1
            for call in self.fake.by_chat.get(chat, [])
            if call.result is not None
            and call.method.lower().startswith("send")
            and predicate(call)
        )

    def _invitations(self) -> None:
        intro = f"s1:i:{self.survey_id}:"
        invited_then = [p for p in self.world.people if p.registered]
        reachable = [p for p in invited_then if p.telegram_id not in self.world.blocked]
        counts = {
            p.telegram_id: self._accepted_sends(
                p.telegram_id, lambda c: any(d.startswith(intro) for _, d in buttons(c))
            )
            for p in reachable
        }
        # Erasure deletes the member's queued messages, so an invitation still queued then is
        # rightly never sent: the erased member may have had it once, or not at all.
        erased = self.ledger.erased.telegram_id if self.ledger.erased else None
        never = [t for t, n in counts.items() if n == 0 and t != erased]
        twice = {t: n for t, n in counts.items() if n > 1}
        extra = sum(n - 1 for n in twice.values())
        bound = self.kills * self.max_in_flight
        rows = Counter(
            r["chat_id"]
            for r in self.tables["outbox_messages"]
            if r["template"] == "survey.invitation" and r["status"] == "sent"
        )
        doubled_rows = sum(1 for n in rows.values() if n > 1)
        # What the outbox recorded for the members never invited: the clue to where it stopped.
        never_rows = Counter(
            f"{r['status']} after {r['attempts']} ({r['last_error'] or 'no error'})"
            for r in self.tables["outbox_messages"]
            if r["template"] == "survey.invitation" and r["chat_id"] in set(never)
        )
        why = f" {dict(never_rows) or 'no outbox row'}" if never else ""
        if erased in counts:
            first = "invited, then erased" if counts[erased] else "erased before being invited"
            why += f"; the erased member was {first}"
        self.check(
            "invitations reach each reachable member once",
            not never and extra <= bound and doubled_rows == 0,
            f"{len(reachable)} reachable ({len(self.world.blocked)} blocked the bot), "
            f"{len(reachable) - len(never)} invited, never {len(never)}{why}; sent twice "
            f"{len(twice)} (bound: {self.kills} kill(s) x max_in_flight {self.max_in_flight} "
            f"= {bound})",
        )

    def _digests(self) -> None:
        deliveries = self.tables["digest_deliveries"]
        keys = Counter((d["digest_id"], d["member_id"]) for d in deliveries) if deliveries else {}
        rows = [r for r in self.tables["outbox_messages"]
                if str(r["idempotency_key"]).startswith("digest:")]  # fmt: skip
        unsent = [r for r in rows if r["status"] != "sent"]
        chats = {r["chat_id"] for r in rows}
        sent_docs = {c: self._accepted_sends(c, lambda call: call.method.lower() == "senddocument")
                     for c in chats}  # fmt: skip
        expected_docs = Counter(r["chat_id"] for r in rows if r["kind"] == "document")
        extra = sum(max(0, n - expected_docs[c]) for c, n in sent_docs.items())
        missing = sum(max(0, expected_docs[c] - n) for c, n in sent_docs.items())
        bound = self.kills * self.max_in_flight
        self.check(
            "digests reach each recipient once",
            bool(rows)
            and not unsent
            and all(n == 1 for n in keys.values())
            and missing == 0
            and extra <= bound,
            f"{len(deliveries)} deliveries to {len(chats)} recipients, {len(rows)} messages "
            f"({len(unsent)} not sent); workbooks missing {missing}, extra {extra} (bound {bound})",
        )

    def _limits(self) -> None:
        limits = self.fake.limits
        late = limits.violations_count()
        late_by = Counter(method for *_, method in limits.late_sends)
        self.check(
            "no Telegram limit violated",
            late == 0,
            f"{len(limits.accepted)} sends accepted, max {limits.max_in_any_window()} in any 1 s"
            f" (limit {limits.global_per_second}), max {limits.max_per_chat_in_any_window()} per "
            f"chat; 429 answered {limits.rejected['429']}, sends during a flood wait {late}"
            f"{f' {dict(late_by)}' if late else ''}; "
            f"403 {limits.rejected['403']}, 5xx {limits.rejected['500']}",
        )

    def _redelivered(self) -> None:
        records = list(self.delivery.records.values())
        retried = [r for r in records if any(s != 200 for s in r.statuses)]
        # Long polling confirms a batch with the next getUpdates: the last one before a stop is
        # handled (its marker is stored) but not confirmed; Telegram would deliver it again.
        processed = {row["update_id"] for row in self.tables["processed_updates"]}
        unacked = [
            r for r in records if not r.acked and r.finished and r.update_id not in processed
        ]
        cut_off = sum(1 for r in records if not r.finished)
        failures = Counter(s for r in retried for s in r.statuses if s != 200)
        dups = sum(r.duplicate for r in records)
        self.check(
            "every update handled, also those sent while something was down",
            not unacked,
            f"{len(records)} updates ({dups} delivered twice); {len(retried)} answered non-200 "
            f"at first and redelivered ({dict(failures)}); given up {len(unacked)}; "
            f"still being retried when the run ended {cut_off}"
            + (
                f": {[(r.update_id, r.kind, r.statuses[-3:]) for r in unacked[:5]]}"
                if unacked
                else ""
            ),
        )

    # -- privacy ---------------------------------------------------------------------------------
    def _rows(self) -> list[tuple[str, dict[str, Any], str]]:
        if not hasattr(self, "_all_rows"):
            self._all_rows = [(t, row, _row_text(row)) for t, rows in self.tables.items()
                              for row in rows]  # fmt: skip
            self._by_token: dict[str, list[tuple[str, dict[str, Any], str]]] = {}
            for entry in self._all_rows:
                for token in set(CONTENT_TOKEN.findall(entry[2])):
                    self._by_token.setdefault(token, []).append(entry)
        return self._all_rows

    def _linked(self, person: Person, contents: list[str]) -> list[str]:
        """Rows (or Redis entries) that hold one of `contents` and something naming `person`."""
        self._rows()
        member_id = self.member_ids.get(person.telegram_id)
        names = [str(person.telegram_id), person.employee_id, person.name]
        found = []
        for content in contents:
            for table, row, text in self._by_token.get(content, []):
                by_column = member_id is not None and any(
                    MEMBER_COLUMNS.search(k) and v == member_id for k, v in row.items()
                )
                if by_column or any(n in text for n in names):
                    found.append(table)
        for entry in self.redis:
            if any(c in entry for c in contents) or names[0] in entry:
                found.append("redis")
        return found

    def _anonymity(self) -> None:
        links: list[str] = []
        anonymous = [r for r in self.ledger.letters if r.mode == "anonymous"]
        for record in anonymous:
            row = next((b for b in self.tables["mailbox_letters"]
                        if b["id"] == record.letter_id), None)  # fmt: skip
            if row is not None and (row["member_id"] or row["sender_tag"] or row["sender_seal"]):
                links.append(f"{record.marker}: letter row names its sender")
            contents = [f"[{m}]" for m in record.tried_parts + record.follow_ups]
            links += [f"{record.marker} via {t}" for t in self._linked(record.sender, contents)]
        responses = [r for r in self.tables["survey_responses"] if r["survey_id"] == self.survey_id]
        named = [r for r in responses if r["member_id"] is not None]
        if named:
            links.append(f"{len(named)} anonymous responses carry a member id")
        people = {p.telegram_id: p for p in self.world.people}
        for telegram_id in self.ledger.completed:
            token = self.ledger.advice.get(telegram_id)
            if token is None:
                continue
            found = self._linked(people[telegram_id], [token])
            links += [f"survey answer of {people[telegram_id].employee_id} via {t}" for t in found]
        completed_ids = {self.member_ids.get(t) for t in self.ledger.completed}
        stale = [
            d for d in self.tables.get("survey_drafts", []) if d.get("member_id") in completed_ids
        ]
        if stale:
            links.append(f"{len(stale)} drafts of submitted answers kept with the member")
        self.check(
            "no anonymous answer or letter linkable to its sender",
            not links,
            f"{len(anonymous)} anonymous letters, {len(responses)} anonymous responses; "
            f"{len(self.tables)} tables ({len(self._all_rows)} rows) and {len(self.redis)} Redis "
            f"keys searched; links {len(links)}" + (f": {links[:6]}" if links else ""),
        )

    def _erasure(self) -> None:
        person = self.ledger.erased
        if person is None:
            self.check("the erased member leaves no trace", False, "no erasure happened")
            return
        names = [str(person.telegram_id), person.employee_id, person.name]
        traces = []
        for table, row, text in self._rows():
            if any(n in text for n in names):
                traces.append(table)
            elif self.erased_member_id is not None and any(
                MEMBER_COLUMNS.search(k) and v == self.erased_member_id for k, v in row.items()
            ):
                traces.append(f"{table} (member id)")
        traces += ["redis" for entry in self.redis if any(n in entry for n in names)]
        raw = raw_sqlite_bytes(self.db_url)
        if raw is not None:
            traces += [f"sqlite file bytes: {n!r}" for n in names[1:] if n.encode() in raw]
        self.check(
            "the erased member leaves no trace",
            self.ledger.erased_confirmed and not traces,
            f"{person.employee_id} erased (confirmed: {self.ledger.erased_confirmed}); "
            f"traces {len(traces)}" + (f": {sorted(set(traces))}" if traces else ""),
        )

    # -- the process -----------------------------------------------------------------------------
    def _logs(self) -> None:
        """Unhandled: what escaped the product's own handling. The error router's "handler
        failed" (logged, the person told to try again) is counted apart, by exception."""
        escaped: list[str] = []
        routed: Counter[str] = Counter()
        for log in self.logs:
            lines = log.read_text(errors="replace").splitlines() if log.exists() else []
            for i, line in enumerate(lines):
                if any(marker in line for marker in UNHANDLED):
                    escaped.append(f"{log.name}: {line.strip()[:160]}")
                elif "handler failed on update" in line:
                    cause = next((x for x in lines[i + 1 : i + 120] if EXCEPTION.match(x)), "?")
                    routed[cause.split(":")[0]] += 1
        self.check(
            "no unhandled exception in the logs",
            not escaped,
            f"{len(escaped)} escaped"
            + (f": {escaped[:5]}" if escaped else "")
            + f"; reported by the error router (person told to retry): {dict(routed)}",
        )

    def _memory(self) -> None:
        worst = ""
        ok = True
        for name, (before, after) in self.memory.items():
            grown = (after - before) / 1024
            ok = ok and grown <= self.memory_bound_mb
            worst += f"{name} {before / 1024:.0f} -> {after / 1024:.0f} MB; "
        self.check(
            "memory after within the bound",
            ok,
            worst + f"bound: +{self.memory_bound_mb} MB per instance",
        )

    def _flows(self) -> None:
        problems = self.ledger.problems
        self.check(
            "every flow went through",
            not problems,
            f"{len(problems)} stuck" + (f": {problems[:5]}" if problems else ""),
        )
