"""What the shadow policies cost the worker now that they replay the log (ADR 0046).

Run:  .venv/bin/python bench/shadow_replay.py [--db sqlite|postgres] [--people 20]
                                             [--tasks 200] [--decisions 20]

In this one process, on a private deployment (as bench/profile_tip.py makes it: a SQLite file
in a temporary directory or a fresh PostgreSQL database, a private Redis key prefix; removed at
the end): `--people` people with `--tasks` open demo tasks each get `--decisions` tips, each
answered (SNOOZE with a dwell) through the service, as the request path does them. Nothing
replays meanwhile. Then one worker pass (`replay_pending`, no time budget) lets every shadow
score every decision and learn every reward, and the script prints the pass's wall time and
CPU time, per decision (its scoring by every shadow and the learning of its reward), and how
many shadow decisions and state updates it wrote.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time

import profile_tip as deployment  # the private deployment: environment, database, clean-up


async def _decide_and_answer(people: list[tuple[str, str]], decisions: int) -> int:
    from backend.identity.service import principal_for_user
    from backend.recommender import service
    from backend.recommender.reward import Action

    answered = 0
    for user_id, _token in people:
        principal = await principal_for_user(user_id, "token")
        assert principal is not None
        for _ in range(decisions):
            tip = await service.current_tip(principal)
            if tip is None:
                break
            await service.react(principal, tip.id, Action.SNOOZE, 4_000)
            answered += 1
    return answered


async def _measure(args: argparse.Namespace) -> dict[str, float]:
    from backend.app import create_app
    from backend.migrate import migrate
    from backend.recommender.registry import serving
    from backend.recommender.shadow_replay import replay_pending
    from backend.recommender.tables import PolicyState, ShadowDecision

    await migrate()
    app = create_app()
    async with app.lifespan():
        people = await deployment._seed(args.people, args.tasks)
        started = time.perf_counter()
        answered = await _decide_and_answer(people, args.decisions)
        requests_s = time.perf_counter() - started
        _active, shadows = await serving()
        wall, cpu = time.perf_counter(), time.process_time()
        done = await replay_pending(budget_s=float("inf"))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        return {
            "answered": answered,
            "requests_s": requests_s,
            "shadows": len(shadows),
            "people": done.people,
            "scored": done.scored,
            "learned": done.learned,
            "wall": wall,
            "cpu": cpu,
            "rows": await ShadowDecision.count(),
            "states": await PolicyState.count(),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--tasks", type=int, default=200, help="open tasks per person")
    parser.add_argument("--decisions", type=int, default=20, help="answered tips per person")
    args = parser.parse_args()
    deployment._environment(args.db)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if args.db == "postgres":
        asyncio.run(deployment._pg(f'CREATE DATABASE "{deployment.PG_DB}"'))
    try:
        from backend.domains import install

        install()
        r = asyncio.run(_measure(args))
    finally:
        deployment._cleanup(args.db)
    per = r["scored"] or 1
    print(
        f"shadow_replay: db={args.db}, {args.people} people × {args.tasks} open tasks, "
        f"{int(r['answered'])} decisions answered ({r['requests_s']:.1f} s through the service)"
    )
    print(
        f"one pass: {int(r['people'])} person-replays, {int(r['scored'])} decisions scored and "
        f"{int(r['learned'])} rewards learned by {int(r['shadows'])} shadows; "
        f"{int(r['rows'])} shadow decisions, {int(r['states'])} state rows in the database"
    )
    print(
        f"wall {r['wall']:.2f} s, CPU {r['cpu']:.2f} s: "
        f"{1000 * r['wall'] / per:.2f} ms wall and {1000 * r['cpu'] / per:.2f} ms CPU per decision "
        f"(every shadow scores it and learns its reward); "
        f"{per / r['cpu'] if r['cpu'] else 0:.0f} decisions per CPU second"
    )


if __name__ == "__main__":
    main()
