"""The decider: is interrupting this person now, with their best tip, worth more than waiting?

A trigger (a new candidate, a context change, the 15-minute check) asks `decide(user_id, …)`.
The hard rules (push_rules) may hold first; then the person's budget (a rest after unanswered
pushes); then the tip floor (push_floor: a tip in the lower part of the person's own recent
tips waits for the app); else the person's push learner (push_policy) chooses push or hold with
a propensity — a hold for a better hour names that hour. Every decision is one `push_decision`
row with its why; a push goes to `delivery.deliver(…, once_key=decision id)`.
docs/adr/0023-push-decider.md, docs/adr/0033-push-decider-v2.md,
docs/adr/0040-relative-tip-floor.md
"""

from __future__ import annotations

import contextvars
import json
import random
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from backend import presence, request_round
from backend.contracts.json import json_object
from backend.contracts.principal import authenticator
from backend.db import write_transaction
from backend.notifier import delivery, subscriptions
from backend.notifier.message import push_tip
from backend.notifier.push_settings import settings_of
from backend.notifier.tables import PushDecision, PushLearnerState
from backend.profile import service as profile
from backend.recommender import push_floor, push_policy, push_rules
from backend.recommender import service as recommender
from backend.recommender.tip_cache import TipView
from backend.redis import get_redis, key

TRIGGERS = ("candidate", "context", "periodic", "manual")
REST = "rest"
"""The budget held: too soon after pushes the person left unanswered (propensity 1)."""
TIP_KINDS = frozenset({"task", "advice", "insight", "reminder"})
FATIGUE_WINDOW = timedelta(days=3)
"""Unanswered pushes older than this no longer weigh on the learner's fatigue feature."""
LOOK_BACK = max(FATIGUE_WINDOW, timedelta(hours=push_policy.REST_MAX_H))
"""How far back the last push is looked for: the longest rest the budget can ask for."""
ACTIVE_TTL_S = push_rules.ACTIVE_WINDOW_MIN * 60

picking: contextvars.ContextVar[bool] = contextvars.ContextVar("push_picking", default=False)
"""True while the decider itself asks for the current tip: its own `tip.served` is not the
person being active."""


@dataclass(frozen=True)
class DecisionView:
    """One logged decision."""

    id: str
    user_id: str
    decided_at: datetime
    trigger: str
    tip_id: str
    tip_kind: str
    push: bool
    reason: str
    value_now: float | None
    value_wait: float | None
    threshold: float | None
    propensity: float
    policy_id: str
    outcome: str | None
    outcome_at: datetime | None
    better_hour: int | None = None
    """For a hold for a better hour: the local hour the learner waits for."""


def _better_hour(raw: object) -> int | None:
    data = json_object(json.loads(raw) if isinstance(raw, str) else raw)
    hour = data.get("better_hour")
    return hour if isinstance(hour, int) and not isinstance(hour, bool) else None


def _view(r: dict[str, Any]) -> DecisionView:
    return DecisionView(
        id=str(r["id"]),
        user_id=str(r["user"]),
        decided_at=r["decided_at"],
        trigger=r["trigger"],
        tip_id=r["tip_id"],
        tip_kind=r["tip_kind"],
        push=bool(r["push"]),
        reason=r["reason"],
        value_now=r["value_now"],
        value_wait=r["value_wait"],
        threshold=r["threshold"],
        propensity=r["propensity"],
        policy_id=r["policy_id"],
        outcome=r["outcome"],
        outcome_at=r["outcome_at"],
        better_hour=_better_hour(r.get("context")),
    )


async def mark_active(user_id: str) -> None:
    """The person was served or answered a tip on a page: no push for a few minutes."""
    if picking.get():
        return
    name = key("push-active", user_id)
    # A fresh loop serves and answers in one request: both handlers mark, one write does.
    if not request_round.first_write(name):
        return
    await get_redis().set(name, str(time.time()), ex=ACTIVE_TTL_S)


async def _last_activity(user_id: str) -> datetime | None:
    """A tip served or answered on a page, or an open tip page (presence), whichever is later."""
    raw = await get_redis().get(key("push-active", user_id))
    marks = [float(raw)] if raw else []
    if (looking := await presence.last_seen(user_id)) is not None:
        marks.append(looking)
    return datetime.fromtimestamp(max(marks), UTC) if marks else None


async def learner_state(user_id: str) -> push_policy.PushState:
    """The person's push learner (a fresh one when none is stored)."""
    row = (
        await PushLearnerState.select(PushLearnerState.state)
        .where(PushLearnerState.user == user_id)
        .output(load_json=True)
        .first()
    )
    return push_policy.PushState.from_json(row["state"] if row else None)


async def _pushes_since(user_id: str, since: datetime) -> list[dict[str, Any]]:
    return list(
        await PushDecision.select(
            PushDecision.decided_at, PushDecision.tip_id, PushDecision.outcome
        )
        .where(
            (PushDecision.user == user_id)
            & (PushDecision.push == True)  # noqa: E712 (a Piccolo expression)
            & (PushDecision.decided_at >= since)
        )
        .order_by(PushDecision.decided_at)
    )


async def _already_pushed(user_id: str, tip_id: str) -> bool:
    return bool(
        await PushDecision.exists().where(
            (PushDecision.user == user_id)
            & (PushDecision.tip_id == tip_id)
            & (PushDecision.push == True)  # noqa: E712
        )
    )


def _priority(tip: TipView) -> float:
    raw = tip.detail.get("priority")
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return max(0.0, min(1.0, (float(raw) - 1) / 3))
    return 0.0


def _score(tip: TipView) -> float | None:
    """The recommender's score of the tip, clipped to −1..1; None when it has none (a rule)."""
    raw = tip.explanation.get("score")
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return max(-1.0, min(1.0, float(raw)))
    return None


async def _recent_scores(user_id: str, now: datetime) -> dict[str, float]:
    """The scores of the person's current tips the decider saw in the floor's window, by tip."""
    rows = (
        await PushDecision.select(PushDecision.tip_id, PushDecision.tip_score)
        .where(
            (PushDecision.user == user_id)
            & (PushDecision.decided_at >= now - timedelta(days=push_floor.WINDOW_DAYS))
            & PushDecision.tip_score.is_not_null()
        )
        .distinct()
    )
    return {str(r["tip_id"]): float(r["tip_score"]) for r in rows if r["tip_id"]}


async def _current_tip(user_id: str) -> TipView | None:
    principal = await authenticator().from_user_id(user_id, "push")
    if principal is None:
        return None
    token = picking.set(True)
    try:
        return await recommender.current_tip(principal)
    finally:
        picking.reset(token)


async def decide(user_id: str, trigger: str, now: datetime | None = None) -> DecisionView | None:
    """Decide for one person now and log it; None when they have no subscription (nothing to
    decide) or no account. One decision at a time per person (a Redis lock)."""
    if not await subscriptions.subscription_ids_of(user_id):
        return None
    async with get_redis().lock(key("push-decide", user_id), timeout=30, blocking_timeout=30):
        return await _decide(user_id, trigger, now or datetime.now(UTC))


async def _decide(user_id: str, trigger: str, now: datetime) -> DecisionView | None:
    elig = await profile.eligibility(user_id)
    if elig is None:
        return None
    zone = ZoneInfo(elig.timezone)
    local = now.astimezone(zone)
    prefs = await settings_of(user_id)
    pushes = await _pushes_since(user_id, now - LOOK_BACK)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    last_push = pushes[-1]["decided_at"] if pushes else None
    activity = await _last_activity(user_id)
    rules = push_rules.RuleInput(
        now_local=local,
        quiet=prefs.quiet,
        daily_max=prefs.daily_max,
        min_spacing_min=prefs.min_spacing_min,
        pushes_today=sum(1 for p in pushes if p["decided_at"] >= midnight),
        last_push_local=last_push.astimezone(zone) if last_push else None,
        last_activity_local=activity.astimezone(zone) if activity else None,
        context_silenced=elig.silenced_kinds >= TIP_KINDS,
    )
    # The rules that need no candidate come first: no tip is picked at night for nothing.
    held = push_rules.hold_reason(rules)
    tip: TipView | None = None
    if held is None:
        tip = await _current_tip(user_id)
        held = push_rules.hold_reason(
            push_rules.RuleInput(
                **{
                    **rules.__dict__,
                    "has_candidate": tip is not None,
                    "kind": tip.kind if tip else "task",
                    "silenced_kinds": elig.silenced_kinds,
                    "already_pushed": bool(tip and await _already_pushed(user_id, tip.id)),
                }
            )
        )
    unanswered = tuple(
        (now - p["decided_at"]).total_seconds() / 3600
        for p in pushes
        if p["outcome"] in ("ignored", "dismissed", "turned_off")
        and now - p["decided_at"] < FATIGUE_WINDOW
    )
    due = tip.detail.get("due_date") if tip else None
    msg = (
        push_tip(
            tip.id, tip.content, tip.kind, tip.served_at, due if isinstance(due, str) else None
        )
        if tip
        else None
    )
    score = _score(tip) if tip else None
    ctx = push_policy.PushContext(
        local_hour=local.hour,
        weekend=local.weekday() >= 5,
        unanswered_ages_h=unanswered,
        hours_since_last_push=(now - last_push).total_seconds() / 3600 if last_push else None,
        due_now=bool(msg and msg.due_now),
        priority=_priority(tip) if tip else 0.0,
        kind=tip.kind if tip else "task",
        score=score if score is not None else 0.0,
        peak_hours=prefs.peak_hours,
        preferred_hour=prefs.preferred_hour,
        hour_profile=prefs.hour_profile(local.weekday() >= 5),
    )
    row = PushDecision(
        id=uuid.uuid4(),
        user=user_id,
        decided_at=now,
        trigger=trigger if trigger in TRIGGERS else "manual",
        tip_id=tip.id if tip else "",
        tip_kind=tip.kind if tip else "",
        tip_score=score,
        push=False,
        reason=held or "",
        propensity=1.0,
        policy_id=push_policy.POLICY_ID,
        context=asdict(ctx),
    )
    if held is None and msg is not None:
        state = await learner_state(user_id)
        rest = push_policy.rest_hours(state)
        if last_push is not None and now - last_push < timedelta(hours=rest):
            row.reason, row.threshold = REST, round(state.threshold, 4)
            row.context = {**asdict(ctx), "rest_h": rest}
        elif (floor := await _floor(user_id, tip, score, now)).holds:
            # A tip in the lower part of the person's own recent tips waits for the app.
            row.reason, row.threshold = push_floor.WEAK_TIP, round(state.threshold, 4)
            row.context = {**asdict(ctx), **floor.as_context()}
        else:
            row.context = {**asdict(ctx), **floor.as_context()}
            _learner_choice(row, state, ctx, user_id, local, now, prefs.quiet)
            if row.push:
                row.expires_at = datetime.fromtimestamp(msg.expires_at, UTC)
    async with write_transaction():
        await row.save()
    if row.push and msg is not None:
        await delivery.deliver(user_id, msg, once_key=str(row.id))
    saved = await PushDecision.select().where(PushDecision.id == row.id).first()
    return _view(saved) if saved else None


async def _floor(
    user_id: str, tip: TipView | None, score: float | None, now: datetime
) -> push_floor.Floor:
    if tip is None or score is None:
        return push_floor.judge(None, ())  # nothing to rank: the floor does not apply
    recent = {**await _recent_scores(user_id, now), tip.id: score}
    return push_floor.judge(score, recent.values())


def _learner_choice(
    row: PushDecision,
    state: push_policy.PushState,
    ctx: push_policy.PushContext,
    user_id: str,
    local: datetime,
    now: datetime,
    quiet: tuple[int, int],
) -> None:
    draw = random.Random(f"{user_id}:{local.date().isoformat()}")
    choice = push_policy.choose(
        state,
        ctx,
        draw,
        push_rules.allowed_hours_ahead(local, quiet, push_policy.WAIT_HOURS),
        propensity_rng=random.Random(f"{user_id}:{now.isoformat()}"),
    )
    row.push, row.reason, row.propensity = choice.push, choice.reason, choice.propensity
    row.value_now, row.value_wait = round(choice.value_now, 4), round(choice.value_wait, 4)
    row.threshold = round(choice.threshold, 4)
    if choice.wait_hours:
        # The why of a hold for a better hour: which local hour, and how far away.
        better = (local + timedelta(hours=choice.wait_hours)).hour
        row.context = {
            **json_object(row.context),
            "better_hour": better,
            "wait_h": choice.wait_hours,
        }


async def decisions_of(user_id: str, first: int = 50) -> list[DecisionView]:
    """A person's latest decisions, newest first."""
    rows = (
        await PushDecision.select()
        .where(PushDecision.user == user_id)
        .order_by(PushDecision.decided_at, ascending=False)
        .limit(max(1, min(first, 500)))
    )
    return [_view(r) for r in rows]


def context_of(raw: object) -> push_policy.PushContext:
    """A stored decision's learner context."""
    data = json_object(raw)
    ages = data.get("unanswered_ages_h")
    since = data.get("hours_since_last_push")
    peaks, preferred = data.get("peak_hours"), data.get("preferred_hour")
    profile = data.get("hour_profile")
    return push_policy.PushContext(
        local_hour=int(str(data.get("local_hour", 12))),
        weekend=bool(data.get("weekend")),
        unanswered_ages_h=tuple(float(str(a)) for a in ages) if isinstance(ages, list) else (),
        hours_since_last_push=float(str(since)) if since is not None else None,
        due_now=bool(data.get("due_now")),
        priority=float(str(data.get("priority", 0.0))),
        kind=str(data.get("kind", "task")),
        score=float(str(data.get("score", 0.0))),
        peak_hours=tuple(int(str(h)) for h in peaks) if isinstance(peaks, list) else (),
        preferred_hour=int(str(preferred)) if preferred is not None else None,
        hour_profile=(
            tuple(float(str(a)) for a in profile) if isinstance(profile, list | tuple) else ()
        ),
    )
