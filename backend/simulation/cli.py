"""`oo sim` and `oo ope`: the simulator and off-policy evaluation from the command line.

Heavy modules (numpy, the simulator, the database) are imported inside the commands, so other
`oo` commands do not pay for them.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import click


def _fail(message: str) -> None:
    click.echo(f"oo: {message}", err=True)
    sys.exit(2)


class _Bar:
    """One status line, rewritten in place (a plain line per update when not a terminal)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.tty = sys.stderr.isatty()

    def __call__(self, p: Any) -> None:
        pct = p.done / p.total if p.total else 1.0
        width = 30
        bar = "█" * int(pct * width) + "·" * (width - int(pct * width))
        mean = "—" if p.mean_reward is None else f"{p.mean_reward:+.3f}"
        line = (
            f"{bar} {pct:6.1%}  {p.done}/{p.total} decisions  {p.policy_id:<12} "
            f"mean {mean}  {time.monotonic() - self.started:5.0f}s"
        )
        click.echo(("\r" + line) if self.tty else line, nl=not self.tty, err=True)

    def close(self) -> None:
        if self.tty:
            click.echo("", err=True)


@click.command()
@click.option("--policy", "policies", multiple=True, help="Policy id (repeat; default: all five).")
@click.option("--persona", "personas", multiple=True, help="Persona id (repeat; default: all).")
@click.option(
    "--set",
    "persona_set",
    type=click.Choice(["standard", "held-out"]),
    default="standard",
    show_default=True,
    help="Persona set when no --persona is given (held-out: never used for tuning).",
)
@click.option("--seed", default=0, show_default=True, help="Everything random derives from it.")
@click.option("--seeds", default=1, show_default=True, help="Repetitions (seed, seed+1, …).")
@click.option("--users", default=1, show_default=True, help="Simulated users per persona.")
@click.option("--decisions", default=200, show_default=True, help="Decisions per user.")
@click.option("--judge", type=click.Choice(["rule", "llm"]), default="rule", show_default=True)
@click.option(
    "--events",
    type=click.Choice(["sample", "all", "none"]),
    default="sample",
    show_default=True,
    help="Per-decision events to store (sample: at most 20,000 per run).",
)
@click.option("--store/--no-store", default=True, help="Keep the run in sim_runs / sim_events.")
@click.option("--queue", "queued", is_flag=True, help="Hand the run to a worker and return.")
@click.option(
    "--push",
    "push",
    is_flag=True,
    help="Compare push deciders instead (fixed 9:00, on every candidate, learned); no storage.",
)
@click.option("--days", default=28, show_default=True, help="Simulated days per person (--push).")
def sim(
    policies: tuple[str, ...],
    personas: tuple[str, ...],
    persona_set: str,
    seed: int,
    seeds: int,
    users: int,
    decisions: int,
    judge: str,
    events: str,
    store: bool,
    queued: bool,
    push: bool,
    days: int,
) -> None:
    """Simulate personas answering tips from each policy; compare against the oracle.

    With --push: personas answering notifications from three push deciders (--persona,
    --seed, --users and --days apply)."""
    if push:
        _push_comparison(personas, seed, users, days)
        return
    from backend.simulation.metrics import summarise, table
    from backend.simulation.runner import DEFAULT_POLICIES, SimConfig, simulate

    config = SimConfig(
        policies=policies or DEFAULT_POLICIES,
        personas=personas,
        persona_set=persona_set,
        seed=seed,
        seeds=seeds,
        users_per_persona=users,
        decisions=decisions,
        judge=judge,
        events=events if store else "none",
    )
    try:
        config.validate()
    except ValueError as err:
        _fail(str(err))
    bar = _Bar()
    if not store:
        result = simulate(config, bar)
        bar.close()
        click.echo(table(summarise(result)))
        return
    summary = asyncio.run(_stored_run(config, bar, queued))
    bar.close()
    if summary is not None:
        click.echo(table(summary))


def _push_comparison(personas: tuple[str, ...], seed: int, users: int, days: int) -> None:
    from backend.simulation import push_sim
    from backend.simulation.personas import select_personas

    if users < 1 or days < 1:
        _fail("--users and --days must be at least 1")
    try:
        chosen = select_personas(personas)
    except KeyError as err:
        _fail(f"unknown persona {err}")
    results = push_sim.compare(chosen, seed, users, days, processes=os.cpu_count() or 1)
    click.echo(push_sim.table(results))
    click.echo("")
    click.echo(push_sim.verdict(results["overall"]))


async def _stored_run(config: Any, bar: _Bar, queued: bool) -> dict[str, Any] | None:
    from backend.db import close_pool, open_pool
    from backend.queue import close_queue, enqueue
    from backend.redis import close_redis
    from backend.simulation import service, store

    await open_pool()
    try:
        run_id = await store.create_run(config.as_dict(), "cli", service.total_decisions(config))
        if queued:
            await enqueue(service.JOB, run_id, "", job_id=f"sim:{run_id}")
            click.echo(f"queued run {run_id}: an `oo worker` runs it (see `simulations`)")
            return None
        click.echo(f"run {run_id}", err=True)
        view = await service.execute(run_id, on_progress=bar, publish_required=False)
        return view.summary if view else None
    finally:
        await close_queue()
        await close_redis()
        await close_pool()


def _window(since: str | None, days: int, until: str | None) -> tuple[datetime, datetime | None]:
    def parse(raw: str) -> datetime:
        at = datetime.fromisoformat(raw)
        return at if at.tzinfo else at.replace(tzinfo=UTC)

    start = parse(since) if since else datetime.now(UTC) - timedelta(days=days)
    return start, parse(until) if until else None


@click.command()
@click.option("--policy", "policies", multiple=True, help="Policy id (repeat; default: all).")
@click.option("--since", default=None, help="Window start (ISO date/time; default: --days ago).")
@click.option("--until", default=None, help="Window end (ISO date/time; default: now).")
@click.option("--days", default=30, show_default=True, help="Window length when --since is unset.")
@click.option(
    "--bootstrap",
    default=0,
    show_default=True,
    help="Bootstrap resamples for the intervals (0: normal approximation from influence terms).",
)
@click.option("--seed", default=0, show_default=True)
@click.option("--validate", is_flag=True, help="Check the estimators on a simulated random log.")
@click.option("--decisions", default=20_000, show_default=True, help="Validation log size.")
@click.option(
    "--seeds", "seed_list", default=None, help="Validation: comma-separated seeds (e.g. 0,1,2)."
)
@click.option("--on-policy", is_flag=True, help="Validation: also run each policy on-policy.")
def ope(
    policies: tuple[str, ...],
    since: str | None,
    until: str | None,
    days: int,
    bootstrap: int,
    seed: int,
    validate: bool,
    decisions: int,
    seed_list: str | None,
    on_policy: bool,
) -> None:
    """Off-policy estimates (IPS, SNIPS, DR with 95% CIs) of policies on the log."""
    from backend.recommender.policies import all_policies, get_policy

    for pid in policies:
        try:
            get_policy(pid)
        except KeyError:
            _fail(f"no policy {pid!r}; known: {', '.join(p.id for p in all_policies())}")
    if validate:
        from backend.simulation.validation import report_table, summary
        from backend.simulation.validation import validate as run_validation

        try:
            seeds = [int(s) for s in seed_list.split(",")] if seed_list else [seed]
        except ValueError:
            _fail(f"--seeds wants comma-separated integers, not {seed_list!r}")
            return
        targets = (*policies, "oracle") if policies else None
        reports = []
        for one in seeds:
            report = run_validation(
                decisions=decisions,
                seed=one,
                bootstrap=min(bootstrap, 200),
                on_policy=on_policy,
                on_progress=lambda m: click.echo(m, err=True),
                **({"policies": targets} if targets else {}),
            )
            click.echo(report_table(report) + "\n")
            reports.append(report)
        click.echo(summary(reports))
        return
    ids = list(policies) or [p.id for p in all_policies()]
    try:
        start, end = _window(since, days, until)
    except ValueError as err:
        _fail(f"bad date: {err}")
        return
    n, results = asyncio.run(_ope_run(ids, start, end, seed, bootstrap))
    if not n:
        click.echo("no replayable rewarded decisions in that window")
        return
    click.echo(f"{n} rewarded decisions from {start:%Y-%m-%d %H:%M} to {end or 'now'}")
    click.echo(
        f"{'policy':<12} {'served':>7} {'served mean':>11} {'ESS':>8}"
        + "".join(f" {k.upper():>22}" for k in ("ips", "snips", "dr"))
    )
    for r in results:
        mean = "—" if r.served_mean is None else f"{r.served_mean:+.3f}"
        cells = "".join(
            f" {e.value:+.3f} [{e.low:+.3f},{e.high:+.3f}]" for e in r.estimates.values()
        )
        click.echo(f"{r.policy_id:<12} {r.served:>7} {mean:>11} {r.ess:>8.0f}{cells}")


async def _ope_run(
    ids: list[str], start: datetime, end: datetime | None, seed: int, bootstrap: int
) -> tuple[int, list[Any]]:
    from backend.db import close_pool, open_pool
    from backend.simulation.evaluation import estimate_window

    await open_pool()
    try:
        return await estimate_window(ids, start, end, seed=seed, bootstrap=bootstrap)
    finally:
        await close_pool()
