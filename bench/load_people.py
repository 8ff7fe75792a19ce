"""bench/load.py's simulated people: tip, think, react — retrying a reaction with the same
clientRequestId until it is answered — and what they saw."""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from load_report import RECOVERY_TARGET_S

RETRY_GRACE_S = 30.0  # after the run, a reaction being retried gets this long to be answered
DRAIN_WAIT_S = 60.0  # the outbox drain runs every 15 s (backend/recommender/jobs.py)
RETRYABLE_HTTP = {429, 502, 503, 504}

TIP_QUERY = "{ tip { id } }"
FEEDBACK_MUTATION = """
mutation($tipId: ID!, $action: FeedbackAction!, $dwellMs: Int, $crid: String) {
  feedback(tipId: $tipId, action: $action, dwellMs: $dwellMs, clientRequestId: $crid) {
    tip { id } reward errors { code }
  }
}"""
ACTIONS = ("DONE", "SNOOZE", "DISMISS")


# --- the simulated people -------------------------------------------------------------------


@dataclass
class Fault:
    """When the dependency went away and when it was back (monotonic seconds)."""

    kind: str
    start: float | None = None
    back: float | None = None

    def window(self) -> tuple[float, float] | None:
        if self.start is None or self.back is None:
            return None
        return self.start, self.back + RECOVERY_TARGET_S


@dataclass
class Stats:
    """What the clients saw."""

    sent: Counter[str] = field(default_factory=Counter)
    ok_ms: dict[str, list[float]] = field(default_factory=lambda: {"tip": [], "feedback": []})
    errors: list[tuple[float, str, str]] = field(default_factory=list)  # (end, op, code)
    no_tip: int = 0
    retries: int = 0
    status: dict[str, str] = field(default_factory=dict)  # clientRequestId -> last status
    # (op, server) -> [(start, end)] of successful requests, for recovery
    ok_at: dict[tuple[str, int], list[tuple[float, float]]] = field(default_factory=dict)
    # every tip request: (start, end, answered)
    tip_outcomes: list[tuple[float, float, bool]] = field(default_factory=list)
    ok_timed: list[tuple[str, float, float]] = field(default_factory=list)  # (op, start, ms)


def _code_of(response: Any) -> tuple[str, Any]:
    """("ok", data) or (an error code, None): GraphQL extensions.code, else the HTTP status."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("errors"):
        codes = [
            str((e.get("extensions") or {}).get("code") or "GRAPHQL_ERROR") for e in body["errors"]
        ]
        return codes[0], None
    if response.status_code != 200:
        if isinstance(body, dict) and body.get("code"):
            return str(body["code"]), None
        return f"HTTP {response.status_code}", None
    if not isinstance(body, dict) or body.get("data") is None:
        return "NO_DATA", None
    return "ok", body["data"]


class People:
    """`people` clients looping tip → think → feedback against the servers, round-robin."""

    def __init__(self, urls: list[str], tokens: list[str], args: argparse.Namespace) -> None:
        import httpx

        self.urls = urls
        self.tokens = tokens
        self.args = args
        self.stats = Stats()
        self.turn = 0
        self.gate = asyncio.Semaphore(args.concurrency)
        # Idle connections are dropped before uvicorn's 5 s keep-alive closes them: reusing one
        # the server is closing is a client-side ReadError, not a failure of the deployment.
        limits = httpx.Limits(
            max_connections=args.concurrency,
            max_keepalive_connections=args.concurrency,
            keepalive_expiry=2.0,
        )
        timeout = httpx.Timeout(args.timeout_s)
        self.http = [httpx.AsyncClient(base_url=u, limits=limits, timeout=timeout) for u in urls]

    async def close(self) -> None:
        for client in self.http:
            await client.aclose()

    async def _call(
        self, op: str, token: str, payload: dict[str, Any]
    ) -> tuple[str, Any, int, float]:
        import httpx

        server = self.turn % len(self.http)
        self.turn += 1
        async with self.gate:
            self.stats.sent[op] += 1
            started = time.monotonic()
            try:
                response = await self.http[server].post(
                    "/graphql", json=payload, headers={"authorization": f"Bearer {token}"}
                )
                code, data = _code_of(response)
            except httpx.HTTPError as err:
                code, data = f"transport: {type(err).__name__}", None
            ended = time.monotonic()
        if code == "ok":
            self.stats.ok_ms[op].append(1000 * (ended - started))
            self.stats.ok_timed.append((op, started, 1000 * (ended - started)))
            self.stats.ok_at.setdefault((op, server), []).append((started, ended))
        else:
            self.stats.errors.append((ended, op, code))
        return code, data, server, started

    @staticmethod
    def _retryable(code: str) -> bool:
        return (
            code.startswith("transport")
            or code == "SERVICE_UNAVAILABLE"
            or code in {f"HTTP {s}" for s in RETRYABLE_HTTP}
            or code == "RATE_LIMITED"
        )

    async def person(self, i: int, until: float) -> None:
        rng = random.Random(i)
        token = self.tokens[i]
        lo, hi = self.args.think_s
        await asyncio.sleep(rng.uniform(0, hi))  # spread the start
        while time.monotonic() < until:
            code, data, _, started = await self._call("tip", token, {"query": TIP_QUERY})
            self.stats.tip_outcomes.append((started, time.monotonic(), code == "ok"))
            if code != "ok":
                await asyncio.sleep(rng.uniform(0.2, 1.0))
                continue
            tip = data.get("tip")
            if tip is None:
                self.stats.no_tip += 1
                await asyncio.sleep(rng.uniform(lo, hi))
                continue
            think = rng.uniform(lo, hi)
            await asyncio.sleep(think)
            await self._react(rng, token, tip["id"], int(think * 1000), until + RETRY_GRACE_S)

    async def _react(
        self, rng: random.Random, token: str, tip_id: str, dwell_ms: int, give_up_at: float
    ) -> None:
        crid = f"load-{uuid.uuid4()}"
        self.stats.status[crid] = "pending"
        variables = {
            "tipId": tip_id,
            "action": rng.choice(ACTIONS),
            "dwellMs": dwell_ms,
            "crid": crid,
        }
        backoff = 0.2
        while True:
            code, data, _, _ = await self._call(
                "feedback", token, {"query": FEEDBACK_MUTATION, "variables": variables}
            )
            if code == "ok":
                errors = data["feedback"]["errors"]
                if errors:  # a typed refusal: nothing stored, the client is told so
                    code = str(errors[0]["code"])
                    self.stats.errors.append((time.monotonic(), "feedback", code))
                    self.stats.status[crid] = code
                else:
                    self.stats.status[crid] = "acked"
                return
            self.stats.status[crid] = code
            if not self._retryable(code) or time.monotonic() + backoff > give_up_at:
                return
            self.stats.retries += 1
            await asyncio.sleep(backoff * rng.uniform(0.5, 1.5))
            backoff = min(backoff * 2, 2.0)
