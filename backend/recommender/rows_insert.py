"""Many rows of one table inserted from plain values (ADR 0041).

Piccolo's `Table.insert(*rows)` wants a Table instance per row, and building one (defaults,
foreign-key attribute lookups, every value converted again for the SQL) cost ~0.1 ms per row
on the hot path: the seven policies' states and six shadow decisions of every loop. This
builds the same statement — `INSERT INTO "t" ("c", …) VALUES (…), (…)` with the ORM's JSON
encoding, optionally `ON CONFLICT ("pk") DO UPDATE SET "c" = EXCLUDED."c"` — from values
given in column order, and runs through the same engine (inside the current transaction).
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

from piccolo.columns import JSON, JSONB, Column
from piccolo.querystring import QueryString
from piccolo.table import Table
from piccolo.utils.encoding import dump_json

from backend.db import Prepared, engine

MAX_PREPARED = 256
"""Statement texts kept compiled (one per table, column list and row count in use)."""

_PREPARED: dict[str, Prepared] = {}


class RowsInsert:
    """An INSERT of `rows` (tuples in the order of `columns`) into `table`; await it to run it,
    or hand its `querystrings` to a combined statement (reaction_write.write)."""

    def __init__(
        self,
        table: type[Table],
        columns: Sequence[Column],
        rows: Sequence[Sequence[Any]],
        update_on_conflict: Sequence[Column] = (),
    ) -> None:
        self.table = table
        self.columns = list(columns)
        self.rows = rows
        self.update_on_conflict = list(update_on_conflict)

    @classmethod
    def of(cls, rows: Sequence[Table]) -> RowsInsert:
        """The INSERT of these Table instances (one table), every column as the instance
        holds it: what `Table.insert(*rows)` writes, without its per-value conversions."""
        table = type(rows[0])
        columns = table._meta.columns
        names = [c._meta.name for c in columns]
        return cls(table, columns, [[getattr(r, name) for name in names] for r in rows])

    def _value(self, column: Column, value: Any) -> Any:
        if isinstance(column, JSON | JSONB) and value is not None and not isinstance(value, str):
            return dump_json(value)  # as the ORM encodes it
        return value

    @property
    def querystrings(self) -> list[QueryString]:
        """The one statement (a list, as Piccolo's queries give them)."""
        names = ",".join(f'"{c._meta.db_column_name}"' for c in self.columns)
        row = "(" + ",".join("{}" for _ in self.columns) + ")"
        values = [
            self._value(c, v) for r in self.rows for c, v in zip(self.columns, r, strict=True)
        ]
        table = self.table._meta.get_formatted_tablename()
        # Names from the table's own metadata; every value is a bound parameter.
        sql = f"INSERT INTO {table} ({names}) VALUES " + ",".join(row for _ in self.rows)  # noqa: S608
        if self.update_on_conflict:
            key = self.table._meta.primary_key._meta.db_column_name
            sets = ", ".join(
                f'"{c._meta.db_column_name}"=EXCLUDED."{c._meta.db_column_name}"'
                for c in self.update_on_conflict
            )
            sql += f' ON CONFLICT ("{key}") DO UPDATE SET {sets}'
        return [QueryString(sql, *values, query_type="insert", table=self.table)]

    async def run(self) -> None:
        """Run it (nothing to insert: nothing sent), compiled once per statement text."""
        if self.rows:
            (query,) = self.querystrings
            prepared = _PREPARED.get(query.template)
            if prepared is None:
                if len(_PREPARED) >= MAX_PREPARED:
                    _PREPARED.clear()
                prepared = _PREPARED[query.template] = Prepared(query.template, "insert")
            await engine().run_querystring(prepared.query(*query.args))

    def __await__(self) -> Generator[Any, None, None]:
        return self.run().__await__()
