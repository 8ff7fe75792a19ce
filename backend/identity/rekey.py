"""Key rotation: re-sealing every registered vault column under the newest key (`oo rotate-keys`).

Columns are registered in vault.py (`register_encrypted_columns`); this module walks them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.db import write_transaction
from backend.identity.vault import Vault, context_for, encrypted_columns, get_vault


@dataclass(frozen=True)
class RotationReport:
    """What `rotate_keys` did."""

    resealed: int
    total: int


async def rotate_keys(vault: Vault | None = None) -> RotationReport:
    """Re-seal every registered secret that is not under the newest key.

    Each row is updated in its own short transaction so a large vault never holds a long write
    lock (SQLite has one writer); a row that fails to open aborts with VaultError before any
    key is dropped, which is the point of running this first.
    """
    vault = vault or get_vault()
    resealed = total = 0
    for table, columns in encrypted_columns().items():
        pk = table._meta.primary_key
        rows = await table.select(pk, *(table._meta.get_column_by_name(c) for c in columns))
        for row in rows:
            row_id = row[pk._meta.name]
            changes: dict[Any, Any] = {}
            for column in columns:
                sealed = row[column]
                if not sealed:
                    continue
                total += 1
                if vault.key_id(sealed) == vault.current_kid:
                    continue
                context = context_for(table, row_id, column)
                plain = vault.decrypt(sealed, context)
                changes[table._meta.get_column_by_name(column)] = vault.encrypt(plain, context)
            if changes:
                async with write_transaction():
                    await table.update(changes).where(pk == row_id)
                resealed += len(changes)
    return RotationReport(resealed=resealed, total=total)
