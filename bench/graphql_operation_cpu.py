"""CPU per GraphQL operation in process: the schema's own work, without HTTP, limits or a caller.

Run:  .venv/bin/python bench/graphql_operation_cpu.py [--operations 5000] [--repeats 5]
                                                     [--query '{ __typename }']

Executes one query through `schema.execute` in a loop and prints the CPU time (process time, so
a busy machine's waits are not counted) per operation, best of `--repeats` loops, for:

  ours          the schema as served: one OperationRules extension (ADR 0044);
  stock caches  the same schema with only Strawberry's ParserCache and ValidationCache — the
                floor for any set of per-operation rules that keeps the two caches;
  no extension  parsing and validating on every operation (what the caches save).

No database, Redis or server: the context carries no request, so the cost budget has no caller
to charge, and `{ __typename }` reads no data. Nothing is written anywhere.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class _InProcess:
    """The context of an operation without HTTP (as the console's live pages run them)."""

    response = None
    request = None


async def _per_operation(schema: Any, query: str, operations: int, repeats: int) -> float:
    """Best µs of CPU per operation over `repeats` loops of `operations`."""
    for _ in range(200):  # warm: the caches filled, the code paths taken once
        result = await schema.execute(query, context_value=_InProcess())
    if result.errors:
        raise SystemExit(f"the query failed: {result.errors}")
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        for _ in range(operations):
            await schema.execute(query, context_value=_InProcess())
        best = min(best, (time.process_time() - started) / operations * 1e6)
    return best


async def _measure(args: argparse.Namespace) -> None:
    from strawberry.extensions import ParserCache, ValidationCache

    from backend.schema import schema

    served = list(schema.extensions)
    variants: list[tuple[str, list[Any]]] = [
        ("ours", served),
        ("stock caches", [lambda: ParserCache(maxsize=256), lambda: ValidationCache(maxsize=256)]),
        ("no extension", []),
    ]
    print(f"graphql_operation_cpu: {args.query!r}, best of {args.repeats} × {args.operations}")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print("| variant | CPU µs per operation |\n|---|---:|")
    try:
        for name, extensions in variants:
            schema.extensions = extensions
            cpu = await _per_operation(schema, args.query, args.operations, args.repeats)
            print(f"| {name} | {cpu:.1f} |")
    finally:
        schema.extensions = served


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--query", default="{ __typename }")
    args = parser.parse_args()
    os.environ.setdefault("PICCOLO_CONF", "backend.piccolo_conf")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from backend.domains import install

    install()
    asyncio.run(_measure(args))


if __name__ == "__main__":
    main()
