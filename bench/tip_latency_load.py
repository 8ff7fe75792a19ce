"""The load generator of bench/tip_latency.py (runs in its own process, `--load`): N concurrent
clients loop `tip` or `healthz`, and the latencies, failures and CPU of each phase are kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TIP_QUERY = {"query": "{ tip { id content } }"}
FRESH_MUTATION = (
    "mutation($id: ID!) { feedback(tipId: $id, action: SNOOZE, dwellMs: 3000)"
    " { reward nextTip { id content } errors { code } } }"
)
"""The fresh-pick loop: answer the tip on screen and get the next one in the same request (the
reaction is stored, the policy learns, a new tip is picked and logged)."""


def _percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def _split(total: int, parts: int) -> list[int]:
    """`total` requests spread over `parts` clients (the first ones get the remainder)."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


# --- the load generator (runs in its own process) ------------------------------------------


@dataclass
class PhaseResult:
    """Latencies of one endpoint under load."""

    latencies_ms: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0

    def as_json(self) -> dict[str, Any]:
        """What the parent needs."""
        ordered = sorted(self.latencies_ms)
        return {
            "count": len(ordered),
            "p50": _percentile(ordered, 50),
            "p90": _percentile(ordered, 90),
            "p99": _percentile(ordered, 99),
            "max": ordered[-1] if ordered else math.nan,
            "rps": len(ordered) / self.elapsed_s if self.elapsed_s else math.nan,
            "server_cpu_ms_per_req": 1000 * self.server_cpu_s / max(1, len(ordered)),
            "client_cpu_ms_per_req": 1000 * self.client_cpu_s / max(1, len(ordered)),
            "failures": dict(self.failures),
        }


def _check_tip(status: int, body: bytes) -> str | None:
    """None when the response is a tip; otherwise what was wrong."""
    if status != 200:
        return f"HTTP {status}: {body[:200]!r}"
    try:
        doc = json.loads(body)
    except ValueError:
        return f"not JSON: {body[:200]!r}"
    if doc.get("errors"):
        codes = sorted({str((e.get("extensions") or {}).get("code")) for e in doc["errors"]})
        return f"errors {codes}: {doc['errors'][0].get('message')}"
    tip = (doc.get("data") or {}).get("tip")
    if not tip or not tip.get("id"):
        return "data.tip is null"
    return None


def _check_fresh(status: int, body: bytes) -> tuple[str | None, str | None]:
    """(problem, the next tip's id) of a `feedback` answer."""
    if status != 200:
        return f"HTTP {status}: {body[:200]!r}", None
    try:
        doc = json.loads(body)
    except ValueError:
        return f"not JSON: {body[:200]!r}", None
    if doc.get("errors"):
        return f"errors: {doc['errors'][0].get('message')}", None
    payload = (doc.get("data") or {}).get("feedback") or {}
    if payload.get("errors"):
        return f"feedback errors {sorted(e['code'] for e in payload['errors'])}", None
    nxt = payload.get("nextTip")
    return (None, nxt["id"]) if nxt and nxt.get("id") else ("nextTip is null", None)


def _check_healthz(status: int, body: bytes) -> str | None:
    if status != 200:
        return f"HTTP {status}: {body[:200]!r}"
    return None if json.loads(body) == {"ok": True} else f"unexpected body {body[:200]!r}"


async def _phase(
    url: str, endpoint: str, tokens: list[str], total: int, server_pid: int | None
) -> PhaseResult:
    import httpx
    import psutil

    clients = len(tokens)
    # Idle connections expire on our side first (uvicorn drops them after 5 s), so a request is
    # never sent on a connection the server is closing.
    limits = httpx.Limits(
        max_connections=clients, max_keepalive_connections=clients, keepalive_expiry=2.0
    )
    result = PhaseResult()
    server = psutil.Process(server_pid) if server_pid else None

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as http:
        on_screen: dict[str, str | None] = {}

        async def current(token: str) -> None:
            headers = {"authorization": f"Bearer {token}"}
            response = await http.post("/graphql", json=TIP_QUERY, headers=headers)
            problem = _check_tip(response.status_code, response.content)
            on_screen[token] = None if problem else response.json()["data"]["tip"]["id"]

        async def one_client(token: str, n: int) -> None:
            headers = {"authorization": f"Bearer {token}"}
            for _ in range(n):
                tip_id = on_screen.get(token)
                if endpoint == "fresh" and tip_id is None:
                    await current(token)  # not measured: nothing was on screen
                    result.failures["no tip on screen"] += 1
                    continue
                started = time.perf_counter()
                try:
                    if endpoint == "tip":
                        response = await http.post("/graphql", json=TIP_QUERY, headers=headers)
                    elif endpoint == "fresh":
                        doc = {"query": FRESH_MUTATION, "variables": {"id": tip_id}}
                        response = await http.post("/graphql", json=doc, headers=headers)
                    else:
                        response = await http.get("/healthz")
                    body = response.content
                except httpx.HTTPError as err:
                    result.failures[f"{type(err).__name__}: {err}"] += 1
                    continue
                result.latencies_ms.append((time.perf_counter() - started) * 1000)
                if endpoint == "fresh":
                    problem, on_screen[token] = _check_fresh(response.status_code, body)
                elif endpoint == "tip":
                    problem = _check_tip(response.status_code, body)
                else:
                    problem = _check_healthz(response.status_code, body)
                if problem:
                    result.failures[problem] += 1

        # Open every connection before the clock starts, so the phase measures requests only
        # (and, for the fresh loop, learn the tip each person has on screen).
        await asyncio.gather(*(http.get("/healthz") for _ in range(clients)))
        if endpoint == "fresh":
            await asyncio.gather(*(current(t) for t in tokens))
        cpu0 = server.cpu_times() if server else None
        own0 = time.process_time()
        t0 = time.perf_counter()
        shares = zip(tokens, _split(total, clients), strict=True)
        await asyncio.gather(*(one_client(t, n) for t, n in shares))
        result.elapsed_s = time.perf_counter() - t0
        result.client_cpu_s = time.process_time() - own0
        if server and cpu0:
            cpu1 = server.cpu_times()
            result.server_cpu_s = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    return result


async def _load(
    url: str, tokens: list[str], requests: int, warmup: int, server_pid: int | None
) -> dict[str, Any]:
    # Warm-up: JIT-free Python still has caches (parser/validation cache, pools, first picks).
    await _phase(url, "healthz", tokens, warmup, None)
    warm_tip = await _phase(url, "tip", tokens, max(warmup, len(tokens)), None)
    healthz = await _phase(url, "healthz", tokens, requests, server_pid)
    tip = await _phase(url, "tip", tokens, requests, server_pid)
    return {
        "warmup_failures": dict(warm_tip.failures),
        "healthz": healthz.as_json(),
        "tip": tip.as_json(),
    }


def load_main(url: str, tokens_file: Path, requests: int, warmup: int, server_pid: int) -> None:
    """`--load`: drive the server and print the results as JSON."""
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    tokens = json.loads(tokens_file.read_text())
    print(json.dumps(asyncio.run(_load(url, tokens, requests, warmup, server_pid or None))))


def _merge(parts: list[PhaseResult]) -> PhaseResult:
    merged = PhaseResult()
    for part in parts:
        merged.latencies_ms += part.latencies_ms
        merged.failures.update(part.failures)
        merged.elapsed_s += part.elapsed_s
        merged.server_cpu_s += part.server_cpu_s
        merged.client_cpu_s += part.client_cpu_s
    return merged


async def _sweep(
    url: str,
    groups: dict[str, list[str]],
    requests: int,
    fresh_requests: int,
    warmup: int,
    server_pid: int,
    blocks: int = 3,
) -> dict[str, Any]:
    """One round of the sweep: per group of people (by open tasks), the bare endpoint, the
    cached tip and the fresh-pick loop after a warm-up of each.

    The three run in turn in `blocks` short blocks (healthz, tip, fresh, healthz, …), not one
    long phase each, so a shared machine's drift (other work starting or stopping) hits them
    alike: the ratios between them are what the figures are read by.
    """
    out: dict[str, Any] = {}
    for name, tokens in groups.items():
        await _phase(url, "healthz", tokens, warmup, None)
        warm_tip = await _phase(url, "tip", tokens, max(warmup, len(tokens)), None)
        warm_fresh = await _phase(url, "fresh", tokens, 2 * len(tokens), None)
        parts: dict[str, list[PhaseResult]] = {"healthz": [], "tip": [], "fresh": []}
        for block in range(blocks):
            for endpoint, total in (
                ("healthz", requests),
                ("tip", requests),
                ("fresh", fresh_requests),
            ):
                share = _split(total, blocks)[block]
                parts[endpoint].append(await _phase(url, endpoint, tokens, share, server_pid))
        out[name] = {
            "warmup_failures": {**warm_tip.failures, **warm_fresh.failures},
            **{endpoint: _merge(p).as_json() for endpoint, p in parts.items()},
        }
    return out


def sweep_load_main(plan_file: Path) -> None:
    """`--sweep-load`: one round of the sweep (plan in a JSON file); prints the results as JSON."""
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    plan = json.loads(plan_file.read_text())
    result = asyncio.run(
        _sweep(
            plan["url"],
            plan["groups"],
            plan["requests"],
            plan["fresh_requests"],
            plan["warmup"],
            plan["server_pid"],
        )
    )
    print(json.dumps(result))
