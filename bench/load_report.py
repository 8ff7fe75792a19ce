"""bench/load.py's report: the figures it prints, each beside its target."""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from load import Observed
    from load_people import Fault, Stats

RECOVERY_TARGET_S = 2.0
TIPS_IN_OUTAGE_TARGET = 0.95

# --- the report -------------------------------------------------------------------------------


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def _report(
    stats: Stats,
    observed: Observed,
    fault: Fault,
    run_s: float,
    drained: bool,
    pending_s: float,
    db: dict[str, Any],
    servers: int,
) -> None:
    print("\n=== figures ===")
    total = sum(stats.sent.values())
    print(
        f"requests sent           {total:,} in {run_s:.0f} s ({total / run_s:.1f}/s): "
        f"tip {stats.sent['tip']:,}, feedback {stats.sent['feedback']:,} "
        f"(of which retries {stats.retries:,}); tip answered null {stats.no_tip:,}"
    )
    codes = Counter(f"{op} {code}" for _, op, code in stats.errors)
    print(
        "errors by code          "
        + (", ".join(f"{k}: {v}" for k, v in codes.most_common()) or "none")
    )
    for op in ("tip", "feedback"):
        lat = stats.ok_ms[op]
        print(
            f"{op:<8} latency        p50 {_pct(lat, 50):.1f} ms, p99 {_pct(lat, 99):.1f} ms "
            f"(n={len(lat):,}, mean {statistics.fmean(lat) if lat else float('nan'):.1f} ms, "
            f"max {max(lat, default=float('nan')):.0f} ms)"
        )
        window = fault.window()
        if window is not None:
            calm = [
                ms for o, t, ms in stats.ok_timed if o == op and not window[0] <= t <= window[1]
            ]
            print(
                f"{op:<8} outside fault   p50 {_pct(calm, 50):.1f} ms, p99 {_pct(calm, 99):.1f} ms"
            )
    acked = {c for c, s in stats.status.items() if s == "acked"}
    stored = set(db["request_ids"])
    lost = acked - stored
    stored_failed = {c for c in stored if stats.status.get(c, "acked") != "acked"}
    never_answered = Counter(s for c, s in stats.status.items() if s != "acked" and c not in stored)
    print(
        f"reactions               acknowledged {len(acked):,}, stored {db['feedback_rows']:,} "
        f"(with our clientRequestId {len(stored & set(stats.status)):,}), "
        f"not stored and not acknowledged {sum(never_answered.values()):,}"
        + (f" {dict(never_answered)}" if never_answered else "")
    )
    print(f"lost (acked, not stored) {len(lost):,}   target 0   {_mark(not lost)}")
    print(
        f"stored but reported failed {len(stored_failed):,}   target 0   "
        f"{_mark(not stored_failed)}"
        + (
            f"  last client status: {dict(Counter(stats.status[c] for c in stored_failed))}"
            if stored_failed
            else ""
        )
    )
    extra = {p: u - db["feedback_rows"] for p, u in db["updates"].items()}
    dup = db["same_tip"] + sum(max(0, v) for v in extra.values())
    print(
        f"duplicates              {dup}   target 0   {_mark(dup == 0)}  (feedback rows sharing a "
        f"tip: {db['same_tip']}; policy updates minus stored reactions: {extra})"
    )
    print(
        f"outbox                  {'drained' if drained else 'NOT drained'} "
        f"after {pending_s:.0f} s; "
        f"still pending {db['outbox_pending']}, given up {db['outbox_given_up']}"
    )
    window = fault.window()
    if window is None:
        outside = len(stats.errors)
        print(f"errors (no fault)       {outside}   target 0   {_mark(outside == 0)}")
    else:
        lo, hi = window
        inside = sum(1 for t, _, _ in stats.errors if lo <= t <= hi)
        outside_codes = Counter(f"{op} {code}" for t, op, code in stats.errors if not lo <= t <= hi)
        outside = sum(outside_codes.values())
        print(
            f"errors outside the fault window {outside}   target 0   {_mark(outside == 0)}  "
            f"(inside {inside}; window = fault start .. back + {RECOVERY_TARGET_S:g} s)"
            + (f" {dict(outside_codes)}" if outside_codes else "")
        )
    if fault.start is not None and fault.back is not None:
        back = fault.back
        firsts: list[float | None] = []
        first_sent: list[float] = []
        for op in ("tip", "feedback"):
            for server in range(servers):
                after = [end for start, end in stats.ok_at.get((op, server), []) if start >= back]
                firsts.append(min(after) - back if after else None)
                sent_after = [s for s, _ in stats.ok_at.get((op, server), []) if s >= back]
                if sent_after:
                    first_sent.append(min(sent_after) - back)
        if any(f is None for f in firsts):
            print("recovery                NOT recovered on every server (no success after)")
        else:
            rec = max(f for f in firsts if f is not None)
            # A first success can only be seen when a request arrives: the mean gap between
            # requests of one kind on one server bounds how finely recovery is measured.
            sent = {op: stats.sent[op] / servers for op in ("tip", "feedback")}
            gap = max(run_s / n for n in sent.values() if n) if any(sent.values()) else 0.0
            print(
                f"recovery                {rec:.2f} s after {fault.kind} was back (first tip AND "
                f"feedback on both servers)   target ≤ {RECOVERY_TARGET_S:g} s   "
                f"{_mark(rec <= RECOVERY_TARGET_S)}  (resolution: one request per ~{gap:.2f} s; "
                f"the last of those first successes was sent {max(first_sent):.2f} s after)"
            )
        # Tip requests that started while the dependency was away: answered at all?
        during = [ok for t, _, ok in stats.tip_outcomes if fault.start <= t <= back]
        share = sum(during) / len(during) if during else float("nan")
        slow = [ms for op, t, ms in stats.ok_timed if op == "tip" and fault.start <= t <= back]
        target = (
            f"   target ≥ {TIPS_IN_OUTAGE_TARGET:.0%}   {_mark(share >= TIPS_IN_OUTAGE_TARGET)}"
            if fault.kind == "redis"
            else ""
        )
        print(
            f"tips answered while {fault.kind} away {share:.1%} ({sum(during)}/{len(during)} "
            f"asked in the outage; answered in p50 {_pct(slow, 50):.0f} ms, "
            f"max {max(slow, default=float('nan')):.0f} ms)" + target
        )
    print(f"DB connections          peak {observed.pg_peak}, end {observed.pg_end}")
    mem = observed.redis_used_memory
    print(
        f"Redis used_memory       {mem / 1024 / 1024:.2f} MiB" if mem else "Redis used_memory n/a"
    )
    print(f"workers dead at the end {observed.workers_died} (of {2})")
    print(f"tips served (DB)        {db['served']:,}")


def _log_findings(logs: list[Path]) -> None:
    """The exceptions the servers and workers logged (tracebacks' last lines), most common first."""
    import re

    pattern = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception)\b.*)$")
    found: Counter[str] = Counter()
    unexpected = 0
    for log in logs:
        if not log.exists():
            continue
        for line in log.read_text(errors="replace").splitlines():
            if "unexpected error" in line or "unhandled error" in line:
                unexpected += 1
            match = pattern.match(line)
            if match:
                found[f"{log.stem}: {match.group(1)[:160]}"] += 1
    print(f"logged unexpected errors {unexpected}")
    for line, n in found.most_common(8):
        print(f"  {n:>5} × {line}")
