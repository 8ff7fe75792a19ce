"""Running one agent for one person: eligibility → history → inference → snippet → stored.

Workers share a `Runner` across their concurrent jobs so reads and writes are batched
(backend.profile.batch); an on-demand run (CLI) uses an unbatched one. Either way the steps
and the result are the same.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from piccolo.engine.postgres import PostgresEngine

from agents.inference import run_inference
from agents.registry import all_agents, get_agent
from agents.types import AgentContext, History, JsonValue, Manifest
from backend.db import engine, write_transaction
from backend.events.bus import publish_many
from backend.events.contracts import AgentComputed
from backend.identity.service import live_user_zones
from backend.profile.batch import BatchWriter, Coalescer
from backend.profile.eligibility import Snapshot, ineligible_reason, snapshots
from backend.profile.history import histories
from backend.profile.store import agent_scope
from backend.profile.tables import AgentOutput, Preference, ProfileConsent, pack

log = logging.getLogger("oo.profile.runner")


@dataclass(frozen=True)
class Computed:
    """One agent run's result, as stored."""

    user_id: str
    agent_id: str
    agent_version: str
    consent_key: str
    snippet: str
    snippet_hash: str
    params: dict[str, JsonValue]
    inferred: dict[str, JsonValue]
    evidence: int
    computed_at: datetime
    expires_at: datetime
    changed: bool


@dataclass(frozen=True)
class AgentRun:
    """What happened when an agent was asked to run for a person."""

    user_id: str
    agent_id: str
    status: str  # "computed" | "skipped"
    reason: str = ""
    result: Computed | None = None


def snippet_hash(snippet: str) -> str:
    """The content hash consumers compare to know a snippet changed."""
    return hashlib.sha256(snippet.encode()).hexdigest()


async def write_results(items: Sequence[Computed]) -> None:
    """Store results (outputs + inferred preferences) in one transaction, then announce them.

    Results of agents whose consent was revoked meanwhile are dropped here, inside the
    transaction: a job that read the profile before the revocation must not write back what
    the revocation removed. Preference upserts only touch rows whose source is 'inferred', so
    a value the person set is never overwritten.
    """
    latest: dict[tuple[str, str], Computed] = {}
    for item in items:  # one row per (person, agent): the newest run wins
        latest[(item.user_id, item.agent_id)] = item
    async with write_transaction():
        users = list({uid for uid, _ in latest})
        revoked = {
            (str(r["user"]), r["key"])
            for r in await ProfileConsent.select(ProfileConsent.user, ProfileConsent.key).where(
                ProfileConsent.user.is_in(users) & (ProfileConsent.granted == False)  # noqa: E712
            )
        }
        keep = [i for i in latest.values() if (i.user_id, i.consent_key) not in revoked]
        if not keep:
            return
        if isinstance(engine(), PostgresEngine):
            await _upsert_postgres(keep)
        else:
            await _upsert_piccolo(keep)
    await publish_many(
        [
            (
                i.user_id,
                AgentComputed(
                    agent_id=i.agent_id,
                    agent_version=i.agent_version,
                    snippet_hash=i.snippet_hash,
                    changed=i.changed,
                    evidence=i.evidence,
                    expires_at=i.expires_at.isoformat(),
                ),
            )
            for i in keep
        ]
    )


async def _upsert_piccolo(keep: Sequence[Computed]) -> None:
    prefs = [
        Preference(
            user=i.user_id,
            scope=agent_scope(i.agent_id),
            key=key,
            value=pack(value),
            source="inferred",
            evidence=i.evidence,
            updated_at=i.computed_at,
        )
        for i in keep
        for key, value in i.inferred.items()
    ]
    if prefs:
        await Preference.insert(*prefs).on_conflict(
            target=(Preference.user, Preference.scope, Preference.key),
            action="DO UPDATE",
            values=[Preference.value, Preference.evidence, Preference.updated_at],
            where=Preference.source == "inferred",
        )
    await AgentOutput.insert(
        *[
            AgentOutput(
                user=i.user_id,
                agent_id=i.agent_id,
                agent_version=i.agent_version,
                snippet=i.snippet,
                snippet_hash=i.snippet_hash,
                params={"values": i.params, "inferred": i.inferred},
                evidence=i.evidence,
                computed_at=i.computed_at,
                expires_at=i.expires_at,
            )
            for i in keep
        ]
    ).on_conflict(
        target=(AgentOutput.user, AgentOutput.agent_id),
        action="DO UPDATE",
        values=[
            AgentOutput.agent_version,
            AgentOutput.snippet,
            AgentOutput.snippet_hash,
            AgentOutput.params,
            AgentOutput.evidence,
            AgentOutput.computed_at,
            AgentOutput.expires_at,
        ],
    )


_PREFS_SQL = """
INSERT INTO preference (id, "user", scope, key, value, source, evidence, updated_at)
SELECT gen_random_uuid(), u.usr, u.scope, u.key, u.value::json, 'inferred', u.evidence, u.at
FROM unnest({}::uuid[], {}::text[], {}::text[], {}::text[], {}::int[], {}::timestamptz[])
     AS u(usr, scope, key, value, evidence, at)
ON CONFLICT ("user", scope, key) DO UPDATE
SET value = EXCLUDED.value, evidence = EXCLUDED.evidence, updated_at = EXCLUDED.updated_at
WHERE preference.source = 'inferred'
"""
_OUTPUTS_SQL = """
INSERT INTO agent_output (id, "user", agent_id, agent_version, snippet, snippet_hash, params,
                          evidence, computed_at, expires_at)
SELECT gen_random_uuid(), u.usr, u.agent_id, u.version, u.snippet, u.hash, u.params::json,
       u.evidence, u.computed_at, u.expires_at
FROM unnest({}::uuid[], {}::text[], {}::text[], {}::text[], {}::text[], {}::text[], {}::int[],
            {}::timestamptz[], {}::timestamptz[])
     AS u(usr, agent_id, version, snippet, hash, params, evidence, computed_at, expires_at)
ON CONFLICT ("user", agent_id) DO UPDATE
SET agent_version = EXCLUDED.agent_version, snippet = EXCLUDED.snippet,
    snippet_hash = EXCLUDED.snippet_hash, params = EXCLUDED.params,
    evidence = EXCLUDED.evidence, computed_at = EXCLUDED.computed_at,
    expires_at = EXCLUDED.expires_at
"""


async def _upsert_postgres(keep: Sequence[Computed]) -> None:
    """The same upserts as `_upsert_piccolo`, as two statements over arrays (unnest).

    A worker writes hundreds of results per batch; building one Piccolo row object per value
    cost more than the database's work. Same columns, same conflict rules; new rows' ids come
    from PostgreSQL (gen_random_uuid, built in since 13) instead of an array of them.
    """
    prefs = [(i, key, value) for i in keep for key, value in i.inferred.items()]
    if prefs:
        await Preference.raw(
            _PREFS_SQL,
            [i.user_id for i, _, _ in prefs],
            [agent_scope(i.agent_id) for i, _, _ in prefs],
            [key for _, key, _ in prefs],
            [pack(value) for _, _, value in prefs],
            [i.evidence for i, _, _ in prefs],
            [i.computed_at for i, _, _ in prefs],
        )
    await AgentOutput.raw(
        _OUTPUTS_SQL,
        [i.user_id for i in keep],
        [i.agent_id for i in keep],
        [i.agent_version for i in keep],
        [i.snippet for i in keep],
        [i.snippet_hash for i in keep],
        [json.dumps({"values": i.params, "inferred": i.inferred}) for i in keep],
        [i.evidence for i in keep],
        [i.computed_at for i in keep],
        [i.expires_at for i in keep],
    )


PersonData = tuple[Snapshot, History]


async def person_data(user_ids: Sequence[str]) -> dict[str, PersonData]:
    """Snapshot and history of each live person, read on one connection.

    One connection for the batch's seven queries: taken from the pool once, not per query
    (asyncpg resets a connection each time it goes back, a round trip of its own).
    """
    async with engine().transaction():
        zones = await live_user_zones(list(user_ids))
        if not zones:
            return {}
        snaps = await snapshots(list(zones), zones=zones)
        found = await histories(list(zones), zones=zones)
    return {uid: (snaps[uid], found[uid]) for uid in zones if uid in snaps and uid in found}


@dataclass
class Runner:
    """Where runs read and write; `batched()` shares queries across concurrent jobs."""

    _people: Coalescer[str, PersonData] | None = field(default=None, repr=False)
    _writer: BatchWriter[Computed] | None = field(default=None, repr=False)

    @classmethod
    def batched(cls, max_batch: int = 500) -> Runner:
        """A runner for a worker process (one per process; it is not thread-safe)."""
        return cls(
            # Reads may be a couple of seconds old: a person's five agent jobs arrive together,
            # and consent is checked again inside the write transaction anyway.
            _people=Coalescer(person_data, max_batch=max_batch, cache_s=2.0),
            _writer=BatchWriter(write_results, max_batch=max_batch),
        )

    async def person(self, user_id: str) -> PersonData | None:
        """The person's snapshot and history."""
        if self._people is not None:
            return await self._people.load(user_id)
        return (await person_data([user_id])).get(user_id)

    async def write(self, result: Computed) -> None:
        """Store a result."""
        await self.write_many([result])

    async def write_many(self, results: Sequence[Computed]) -> None:
        """Store one person's results (batched with other jobs' on a worker)."""
        if self._writer is not None:
            await asyncio.gather(*(self._writer.submit(r) for r in results))
        else:
            await write_results(results)


async def run_agent(user_id: str, agent_id: str, runner: Runner | None = None) -> AgentRun:
    """Run one agent for one person, if they are eligible; raises UnknownAgent for bad ids."""
    manifest = get_agent(agent_id)
    runner = runner or Runner()
    data = await runner.person(user_id)
    if data is None:
        return AgentRun(user_id, agent_id, "skipped", "no such person")
    run = await compute_run(manifest, user_id, data)
    if run.result is not None:
        await runner.write(run.result)
    return run


async def run_agents(user_id: str, runner: Runner | None = None) -> list[AgentRun]:
    """Run every registered agent for one person: one read of their history, one write.

    Eligibility (enabled, consent, min history) is decided per agent now, at run time, as for
    a single run; the results are stored together (and a consent revoked since the read is
    honoured inside the write transaction, see `write_results`).
    """
    runner = runner or Runner()
    data = await runner.person(user_id)
    if data is None:
        return [AgentRun(user_id, m.id, "skipped", "no such person") for m in all_agents()]
    runs = [await compute_run(manifest, user_id, data) for manifest in all_agents()]
    results = [run.result for run in runs if run.result is not None]
    if results:
        await runner.write_many(results)
    return runs


async def run_group(user_ids: Sequence[str]) -> dict[str, list[AgentRun]]:
    """Every registered agent for each person of a group: `run_agents`' steps, with one read
    per table for the whole group, then one write transaction and one publish pipeline.

    A group is a batch already: its reads need not wait for other jobs' company (a worker
    runner's coalescing window), nor its results go one by one through the batch writer.
    Exactly-once and consent are `write_results`' as for any run: one upserted row per
    (person, agent), and a consent revoked since the read drops the result in the write.
    """
    people = list(dict.fromkeys(user_ids))
    data = await person_data(people)
    runs: dict[str, list[AgentRun]] = {}
    results: list[Computed] = []
    for user_id in people:
        found = data.get(user_id)
        if found is None:
            runs[user_id] = [
                AgentRun(user_id, m.id, "skipped", "no such person") for m in all_agents()
            ]
            continue
        runs[user_id] = [await compute_run(m, user_id, found) for m in all_agents()]
        results.extend(run.result for run in runs[user_id] if run.result is not None)
        # A group is tens of milliseconds of computing: let the worker's other jobs (and
        # arq's own Redis round trips, which time out) in between people.
        await asyncio.sleep(0)
    if results:
        await write_results(results)
    return runs


async def compute_run(manifest: Manifest, user_id: str, data: PersonData) -> AgentRun:
    """One agent's run on a person's data (nothing stored yet)."""
    agent_id = manifest.id
    snap, history = data
    reason = ineligible_reason(manifest, snap)
    if reason is not None:
        return AgentRun(user_id, agent_id, "skipped", reason)
    inferred = run_inference(manifest, history)
    own = snap.user_prefs.get(agent_scope(agent_id), {})
    params = {k: own.get(k, v) for k, v in inferred.values.items()}
    snippet = await manifest.compute(AgentContext(history, params, inferred.evidence))
    digest = snippet_hash(snippet)
    previous = snap.output_hashes.get(agent_id)
    now = datetime.now(UTC)
    result = Computed(
        user_id=user_id,
        agent_id=agent_id,
        agent_version=manifest.version,
        consent_key=manifest.consent_key,
        snippet=snippet,
        snippet_hash=digest,
        params=params,
        inferred={k: inferred.values[k] for k in sorted(inferred.inferred_keys)},
        evidence=inferred.evidence,
        computed_at=now,
        expires_at=now + timedelta(seconds=manifest.ttl_s),
        changed=previous != (manifest.version, digest),
    )
    return AgentRun(user_id, agent_id, "computed", result=result)
