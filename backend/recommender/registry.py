"""The policy registry in the database: which policy is served, which run in shadow, promotion.

Exactly one policy is active (its picks are served); any number run in shadow (they score every
request, their picks are logged, and they learn from every reaction); disabled ones do nothing.
Policies known to the code but missing from the table are added as shadows — new policies are
shadow-first. Only an empty table (a fresh install) starts with `DEFAULT_ACTIVE_ID` active
(docs/adr/0010-policy-registry-random-first.md). Every change is audit-logged in the same
transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from backend.audit import record
from backend.contracts.errors import Refused
from backend.db import write_transaction
from backend.recommender.policies import DEFAULT_ACTIVE_ID, Policy, all_policies, get_policy
from backend.recommender.registry_cache import forget_serving, serving_rows
from backend.recommender.tables import PolicyRegistry, ShadowDecision

log = logging.getLogger("oo.recommender.registry")

ACTIVE, SHADOW, DISABLED = "active", "shadow", "disabled"
STATUSES = (ACTIVE, SHADOW, DISABLED)

MIN_SHADOW_DECISIONS = 500
"""Shadow decisions a policy needs before its off-policy estimate is trusted for promotion."""


@dataclass(frozen=True)
class RegistryEntry:
    """One registry row, with what the code knows of the policy."""

    policy_id: str
    version: str
    status: str
    created_at: datetime
    updated_at: datetime
    promoted_at: datetime | None
    description: str = ""
    known: bool = True


@dataclass(frozen=True)
class Estimate:
    """An off-policy estimate of a candidate against the incumbent (from the OPE work)."""

    estimator: str
    candidate: float
    candidate_lower: float
    incumbent: float
    ess: float | None = None
    """Effective sample size of the candidate's importance weights (None: not measured)."""
    min_ess: float = 0.0
    """Below this ESS the estimate rests on too few effective decisions to gate a promotion."""


OffPolicyEstimator = Callable[[str, str], Awaitable[Estimate | None]]
"""(candidate policy id, incumbent policy id) → estimate, or None when it cannot say."""

_estimator: OffPolicyEstimator | None = None


def set_estimator(estimator: OffPolicyEstimator | None) -> None:
    """Plug in the off-policy estimator (the simulator/OPE work); None removes it."""
    global _estimator
    _estimator = estimator


@dataclass(frozen=True)
class Evidence:
    """The numbers a promotion decision rests on."""

    policy_id: str
    incumbent_id: str
    shadow_decisions: int
    required_decisions: int
    agreed_decisions: int
    estimator: str | None = None
    candidate_estimate: float | None = None
    candidate_lower: float | None = None
    incumbent_estimate: float | None = None
    effective_sample_size: float | None = None
    required_ess: float = 0.0

    @property
    def agreement_rate(self) -> float | None:
        """Share of shadow decisions that picked what the active policy served."""
        return self.agreed_decisions / self.shadow_decisions if self.shadow_decisions else None


class RegistryError(Refused):
    """A refused registry change; nothing was stored."""

    def __init__(
        self, code: str, message: str, field: str | None = None, evidence: Evidence | None = None
    ) -> None:
        super().__init__(code, message, field)
        self.evidence = evidence


def _entry(row: dict[str, Any]) -> RegistryEntry:
    try:
        policy: Policy | None = get_policy(row["policy_id"])
    except KeyError:
        policy = None
    return RegistryEntry(
        policy_id=row["policy_id"],
        version=row["version"],
        status=row["status"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        promoted_at=row["promoted_at"],
        description=policy.description if policy else "",
        known=policy is not None,
    )


_synced = False


async def ensure_registry() -> None:
    """Add code policies missing from the table (and record version bumps); once per process."""
    global _synced
    if _synced:
        return
    rows = {r["policy_id"]: r for r in await PolicyRegistry.select()}
    now = datetime.now(UTC)
    fresh = not rows
    missing: list[PolicyRegistry] = []
    for policy in all_policies():
        row = rows.get(policy.id)
        if row is None:
            active = fresh and policy.id == DEFAULT_ACTIVE_ID
            missing.append(
                PolicyRegistry(
                    policy_id=policy.id,
                    version=policy.version,
                    status=ACTIVE if active else SHADOW,
                    active_slot=1 if active else None,
                    created_at=now,
                    updated_at=now,
                    promoted_at=now if active else None,
                )
            )
        elif row["version"] != policy.version:
            async with write_transaction():
                await PolicyRegistry.update(
                    {PolicyRegistry.version: policy.version, PolicyRegistry.updated_at: now}
                ).where(PolicyRegistry.policy_id == policy.id)
                await record(
                    None,
                    "policy.version",
                    policy.id,
                    {"from": row["version"], "to": policy.version, "why": "deployed code"},
                )
    if missing:
        # Two replicas starting together may both try: the unique policy_id (and the unique
        # active slot) make the second insert a no-op instead of a second active policy.
        async with write_transaction():
            await PolicyRegistry.insert(*missing).on_conflict(action="DO NOTHING")
            await record(
                None,
                "policy.register",
                ",".join(p.policy_id for p in missing),
                {"status": {p.policy_id: p.status for p in missing}, "why": "known to the code"},
            )
    _synced = True
    forget_serving()


def forget_sync() -> None:
    """Make the next call re-read the table (tests that recreate or rewrite it)."""
    global _synced
    _synced = False
    forget_serving()


async def entries() -> list[RegistryEntry]:
    """Every registry row, active first."""
    await ensure_registry()
    rows = await PolicyRegistry.select().order_by(PolicyRegistry.policy_id)
    order = {ACTIVE: 0, SHADOW: 1, DISABLED: 2}
    return sorted((_entry(r) for r in rows), key=lambda e: order.get(e.status, 3))


async def serving() -> tuple[Policy, list[Policy]]:
    """The active policy and the shadow policies (those the code knows): one query per
    SERVING_TTL_S and process."""
    await ensure_registry()
    active: Policy | None = None
    shadows: list[Policy] = []
    for policy_id, status in await serving_rows():
        try:
            policy = get_policy(policy_id)
        except KeyError:
            continue  # retired from the code: its row stays for the record
        if status == ACTIVE:
            active = policy
        else:
            shadows.append(policy)
    if active is None:
        log.error("no known active policy in the registry; serving %s", DEFAULT_ACTIVE_ID)
        active = get_policy(DEFAULT_ACTIVE_ID)
        shadows = [p for p in shadows if p.id != active.id]
    return active, sorted(shadows, key=lambda p: p.id)


async def evidence_for(policy_id: str, incumbent_id: str, version: str) -> Evidence:
    """Shadow decision counts (and an off-policy estimate, when an estimator is plugged in)."""
    base = ShadowDecision.count().where(
        (ShadowDecision.policy_id == policy_id) & (ShadowDecision.policy_version == version)
    )
    total = int(await base)
    agreed = int(
        await ShadowDecision.count().where(
            (ShadowDecision.policy_id == policy_id)
            & (ShadowDecision.policy_version == version)
            & (ShadowDecision.agrees == True)  # noqa: E712 - Piccolo builds SQL from ==
        )
    )
    estimate = await _estimator(policy_id, incumbent_id) if _estimator else None
    return Evidence(
        policy_id=policy_id,
        incumbent_id=incumbent_id,
        shadow_decisions=total,
        required_decisions=MIN_SHADOW_DECISIONS,
        agreed_decisions=agreed,
        estimator=estimate.estimator if estimate else None,
        candidate_estimate=estimate.candidate if estimate else None,
        candidate_lower=estimate.candidate_lower if estimate else None,
        incumbent_estimate=estimate.incumbent if estimate else None,
        effective_sample_size=estimate.ess if estimate else None,
        required_ess=estimate.min_ess if estimate else 0.0,
    )


def _refusal(evidence: Evidence) -> str | None:
    """Why the evidence does not justify promotion (None: it does)."""
    e = evidence
    if e.shadow_decisions < e.required_decisions:
        return (
            f"{e.policy_id} has {e.shadow_decisions} shadow decisions; promotion needs at least "
            f"{e.required_decisions} and an off-policy estimate that beats {e.incumbent_id}."
        )
    if e.candidate_lower is None or e.incumbent_estimate is None:
        rate = e.agreement_rate or 0.0
        return (
            f"{e.policy_id} has {e.shadow_decisions} shadow decisions (agrees with "
            f"{e.incumbent_id} {rate:.0%} of the time), but no off-policy estimate is available "
            "yet: the estimator arrives with the simulator / off-policy evaluation work."
        )
    if e.effective_sample_size is not None and e.effective_sample_size < e.required_ess:
        # A lower bound from a handful of effective decisions is itself too noisy to trust:
        # the normal interval behind it assumes many of them.
        return (
            f"{e.policy_id}'s importance weights are worth only {e.effective_sample_size:.0f} "
            f"decisions (effective sample size); promotion needs at least {e.required_ess:.0f}."
        )
    if e.candidate_lower <= e.incumbent_estimate:
        return (
            f"{e.policy_id}'s {e.estimator} lower bound {e.candidate_lower:.3f} does not beat "
            f"{e.incumbent_id}'s estimate {e.incumbent_estimate:.3f}."
        )
    return None


async def _rows_in_tx() -> dict[str, dict[str, Any]]:
    return {r["policy_id"]: r for r in await PolicyRegistry.select()}


def _promotable(rows: dict[str, dict[str, Any]], policy_id: str) -> tuple[dict[str, Any], str]:
    """The target row and the incumbent's id, or the reason it cannot be promoted."""
    target = rows.get(policy_id)
    if target is None:
        raise RegistryError("NOT_FOUND", f"No policy {policy_id!r} in the registry.", "id")
    if target["status"] == ACTIVE:
        raise RegistryError("ALREADY_ACTIVE", f"{policy_id} is already active.", "id")
    try:
        get_policy(policy_id)
    except KeyError:
        raise RegistryError(
            "UNKNOWN_POLICY", f"{policy_id} is no longer in the code.", "id"
        ) from None
    incumbent = next((r for r in rows.values() if r["status"] == ACTIVE), None)
    return target, incumbent["policy_id"] if incumbent else DEFAULT_ACTIVE_ID


async def promote(
    actor_user_id: str | None, policy_id: str, force: bool = False, reason: str = ""
) -> tuple[RegistryEntry, Evidence]:
    """Make `policy_id` the active policy; the incumbent becomes a shadow.

    Refused (RegistryError with the evidence) unless the evidence justifies it, or `force`.
    Operators promote through shadow_replay.promote, which lets the shadows catch up first.
    """
    await ensure_registry()
    target, incumbent_id = _promotable(await _rows_in_tx(), policy_id)
    # Evidence is gathered outside the write transaction: an estimator may take a while, and
    # SQLite would hold its single writer lock all that time.
    evidence = await evidence_for(policy_id, incumbent_id, target["version"])
    refusal = _refusal(evidence)
    if refusal and not force:
        raise RegistryError(
            "INSUFFICIENT_EVIDENCE",
            f"{refusal} Until then, promotion needs force: true.",
            "id",
            evidence,
        )
    async with write_transaction():
        rows = await _rows_in_tx()
        _promotable(rows, policy_id)  # still promotable: nobody promoted it meanwhile
        incumbent = next((r for r in rows.values() if r["status"] == ACTIVE), None)
        incumbent_id = incumbent["policy_id"] if incumbent else DEFAULT_ACTIVE_ID
        now = datetime.now(UTC)
        if incumbent is not None:
            await PolicyRegistry.update(
                {
                    PolicyRegistry.status: SHADOW,
                    PolicyRegistry.active_slot: None,
                    PolicyRegistry.updated_at: now,
                }
            ).where(PolicyRegistry.policy_id == incumbent_id)
        await PolicyRegistry.update(
            {
                PolicyRegistry.status: ACTIVE,
                PolicyRegistry.active_slot: 1,
                PolicyRegistry.updated_at: now,
                PolicyRegistry.promoted_at: now,
            }
        ).where(PolicyRegistry.policy_id == policy_id)
        detail = {
            "from": incumbent_id if incumbent else None,
            "forced": bool(refusal) and force,
            "refusal": refusal,
            "reason": reason,
            "evidence": {**asdict(evidence), "agreement_rate": evidence.agreement_rate},
        }
        await record(actor_user_id, "policy.promote", policy_id, detail)
        row = (await _rows_in_tx())[policy_id]
    forget_serving()
    return _entry(row), evidence


async def set_status(
    actor_user_id: str | None, policy_id: str, status: str, reason: str = ""
) -> RegistryEntry:
    """Move a non-active policy between shadow and disabled (promotion is `promote`)."""
    if status not in STATUSES:
        raise RegistryError(
            "INVALID_STATUS", f"Status must be one of {', '.join(STATUSES)}.", "status"
        )
    if status == ACTIVE:
        raise RegistryError(
            "USE_PROMOTE", "Make a policy active with promotePolicy (it checks evidence).", "status"
        )
    await ensure_registry()
    async with write_transaction():
        rows = await _rows_in_tx()
        target = rows.get(policy_id)
        if target is None:
            raise RegistryError("NOT_FOUND", f"No policy {policy_id!r} in the registry.", "id")
        if target["status"] == ACTIVE:
            raise RegistryError(
                "ACTIVE_POLICY",
                f"{policy_id} is the active policy: promote another policy first.",
                "id",
            )
        if target["status"] != status:
            await PolicyRegistry.update(
                {PolicyRegistry.status: status, PolicyRegistry.updated_at: datetime.now(UTC)}
            ).where(PolicyRegistry.policy_id == policy_id)
            await record(
                actor_user_id,
                "policy.status",
                policy_id,
                {"from": target["status"], "to": status, "reason": reason},
            )
        row = (await _rows_in_tx())[policy_id]
    forget_serving()
    return _entry(row)
