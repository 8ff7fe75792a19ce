"""Retention: the decision log (served tips, and the rows hanging off them such as feedback)
is kept OO_TIP_LOG_RETENTION_DAYS days (30 by default), then deleted by a nightly job."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from piccolo.columns import ForeignKey
from piccolo.table import Table

from backend.db import write_transaction
from backend.privacy.registry import registry_tables, table_name
from backend.profile.tables import TipHistory
from backend.recommender.tables import ServedTip
from backend.settings import get_settings

log = logging.getLogger("oo.privacy")
# Small batches keep each write transaction short: SQLite has one writer, and the tip page
# must not wait behind a nightly purge.
BATCH = 500


@dataclass
class RetentionReport:
    """How many decision-log rows were removed, and what else went with them."""

    tips: int = 0
    children: dict[str, int] = field(default_factory=dict)
    cutoff: datetime | None = None


def _children_of(parent: type[Table]) -> list[tuple[str, type[Table], ForeignKey[ServedTip]]]:
    """Every registered table with a ForeignKey to `parent` (found, not listed: new ones count)."""
    found = []
    for app, table in registry_tables():
        for fk in table._meta.foreign_key_columns:
            if fk._foreign_key_meta.resolved_references is parent:
                found.append((table_name(app, table), table, fk))
    return found


async def purge_tip_log(days: int | None = None, now: datetime | None = None) -> RetentionReport:
    """Delete served tips older than the retention period, their children first."""
    days = max(1, days if days is not None else get_settings().tip_log_retention_days)
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    report = RetentionReport(cutoff=cutoff)
    children = _children_of(ServedTip)
    while True:
        async with write_transaction():
            rows = (
                await ServedTip.select(ServedTip.id)
                .where(ServedTip.served_at < cutoff)
                .limit(BATCH)
            )
            ids = [r["id"] for r in rows]
            if not ids:
                break
            for name, table, fk in children:
                removed = int(await table.count().where(fk.is_in(ids)))
                if removed:
                    await table.delete().where(fk.is_in(ids))
                    report.children[name] = report.children.get(name, 0) + removed
            await ServedTip.delete().where(ServedTip.id.is_in(ids))
            report.tips += len(ids)
        if len(ids) < BATCH:
            break
    # The profile's history is a read model of the same log: it goes with it.
    async with write_transaction():
        history = int(await TipHistory.count().where(TipHistory.served_at < cutoff))
        if history:
            await TipHistory.delete().where(TipHistory.served_at < cutoff)
            report.children["profile.tip_history"] = history
    log.info(
        "retention: removed %d served tips older than %d days (%s)",
        report.tips,
        days,
        ", ".join(f"{n}: {c}" for n, c in sorted(report.children.items())) or "no children",
    )
    return report
