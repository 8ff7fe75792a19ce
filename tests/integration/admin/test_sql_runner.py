"""The read-only SQL runner on the run's database (SQLite or PostgreSQL): reads with a row
cap; refuses writes, DDL, several statements, COPY, side-effect functions, secret tables and
queries past their time — with the database itself refusing when the friendly pre-checks are
skipped — and leaves every table exactly as it was. Over GraphQL: audited runs, saved queries;
on the page: a table and a CSV download."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from collections.abc import Awaitable, Callable

import asyncpg
import pytest

from backend import audit
from backend.admin.sql_runner import SqlRefused, execute_read_only, run
from backend.identity.service import create_api_token
from backend.settings import get_settings
from tests.integration.admin.test_admin_graphql import gql
from tests.integration.admin.test_admin_pages import _browser_for
from tests.support.fixtures import DemoPerson, LiveServer, make_person

TokenFor = Callable[[DemoPerson], Awaitable[str]]
POSTGRES = get_settings().uses_postgres

RUN_SQL = """mutation($sql: String!, $reason: String) { runSql(sql: $sql, reason: $reason) {
  result { columns rows truncated } errors { code message field } } }"""
SAVE = """mutation($name: String!, $sql: String!) { saveQuery(name: $name, sql: $sql) {
  query { id name sql authorEmail } errors { code field } } }"""
SAVED = "query { savedQueries { name sql authorEmail } }"

# (query, the code the pre-checks answer with)
REFUSED = [
    ("INSERT INTO admin_rollup_state (name) VALUES ('x')", "READ_ONLY"),
    ("UPDATE app_user SET name = 'x'", "READ_ONLY"),
    ("DELETE FROM app_user", "READ_ONLY"),
    ("DROP TABLE admin_day", "READ_ONLY"),
    ("CREATE TABLE sneaky (a integer)", "READ_ONLY"),
    ("ALTER TABLE app_user ADD COLUMN b integer", "READ_ONLY"),
    ("SELECT 1; DELETE FROM app_user", "MULTIPLE_STATEMENTS"),
    ("COPY app_user TO STDOUT", "COPY"),
    ("SELECT set_config('statement_timeout', '0', false)", "SIDE_EFFECT"),
    ("SELECT pg_terminate_backend(pg_backend_pid())", "SIDE_EFFECT"),
    ("SELECT lo_import('/etc/hostname')", "SIDE_EFFECT"),
    ("SELECT dblink('host=x', 'select 1')", "SIDE_EFFECT"),
    ("SELECT * FROM provider_credential", "FORBIDDEN"),
    ("SELECT token_hash FROM api_token", "FORBIDDEN"),
    (
        'SELECT u.email, t.token_hash FROM app_user u JOIN sign_in_link t ON t."user" = u.id',
        "FORBIDDEN",
    ),
    ("SELECT secret_enc FROM webhook_endpoint", "FORBIDDEN"),
]

# Sent straight to the database (no pre-checks): it must refuse each one itself.
DATABASE_REFUSES = [
    "INSERT INTO admin_rollup_state (name) VALUES ('x')",
    "UPDATE app_user SET name = 'x'",
    "DELETE FROM app_user",
    "DROP TABLE admin_day",
    "CREATE TABLE sneaky (a integer)",
    "SELECT 1; DELETE FROM app_user",
    "SELECT * FROM provider_credential",
    "SELECT count(*) FROM api_token",
]
if POSTGRES:
    DATABASE_REFUSES += [
        # COPY … TO STDOUT only reads what the role may read; the others are refused outright.
        "COPY app_user FROM STDIN",
        "COPY app_user TO '/tmp/oo-sql-runner-copy'",
        "COPY (SELECT 1) TO PROGRAM 'true'",
        "COPY provider_credential TO STDOUT",
        "SELECT set_config('role', 'postgres', false)",
        "SELECT set_config('statement_timeout', '0', false)",
        "SELECT pg_terminate_backend(pg_backend_pid())",
        "SELECT lo_import('/etc/hostname')",
        "SELECT query_to_xml('select * from provider_credential', true, true, '')",
        "WITH gone AS (DELETE FROM app_user RETURNING id) SELECT count(*) FROM gone",
        "SELECT pg_read_file('/etc/hostname')",
        "TRUNCATE admin_day",
        "EXPLAIN ANALYZE DELETE FROM app_user",
    ]
else:
    DATABASE_REFUSES += [
        "ATTACH DATABASE ':memory:' AS other",
        "PRAGMA writable_schema = 1",
        "SELECT load_extension('/tmp/nothing')",
        "WITH gone AS (SELECT 1) DELETE FROM app_user",
        "VACUUM",
        "EXPLAIN DELETE FROM app_user",
    ]

SLOW = (
    "SELECT pg_sleep(5)"
    if POSTGRES
    else "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
)


async def _checksum() -> dict[str, str]:
    """A digest of every table's rows (and the list of tables), straight from the database."""
    url = get_settings().database_url
    if POSTGRES:
        conn = await asyncpg.connect(url)
        try:
            names = [
                r["tablename"]
                for r in await conn.fetch(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
                )
            ]
            sums = {"__tables__": ",".join(names)}
            for name in names:
                digest = "md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
                # names come from the catalog, not from input
                sums[name] = await conn.fetchval(f'SELECT {digest} FROM "{name}" t')  # noqa: S608
            return sums
        finally:
            await conn.close()

    def read() -> dict[str, str]:
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            names = [
                r[0]
                for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1"
                )
            ]
            sums = {"__tables__": ",".join(names)}
            for name in names:
                rows = sorted(repr(r) for r in conn.execute(f'SELECT * FROM "{name}"'))  # noqa: S608
                sums[name] = hashlib.sha256("|".join(rows).encode()).hexdigest()
            return sums
        finally:
            conn.close()

    return await asyncio.to_thread(read)


async def _seed_secrets() -> DemoPerson:
    person = await make_person(tasks=False)
    await create_api_token(person.user_id, "secret")
    return person


async def test_reads_with_a_row_cap() -> None:
    result = await run("SELECT 1 AS one, 'a' AS letter, NULL AS empty;")
    assert result.columns == ["one", "letter", "empty"]
    assert result.rows == [["1", "a", None]]
    assert not result.truncated
    many = await run(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50) "
        "SELECT i FROM n",
        max_rows=10,
    )
    assert [r[0] for r in many.rows] == [str(i) for i in range(1, 11)]
    assert many.truncated
    people = await run("SELECT count(*) AS n FROM app_user")  # ordinary tables are readable
    assert int(people.rows[0][0] or 0) >= 0


@pytest.mark.parametrize(("sql", "code"), REFUSED)
async def test_each_refusal_has_a_clear_message(sql: str, code: str) -> None:
    with pytest.raises(SqlRefused) as refused:
        await run(sql)
    assert refused.value.code == code, refused.value.message
    assert refused.value.message


async def test_the_database_refuses_everything_itself_and_nothing_changes() -> None:
    await _seed_secrets()
    before = await _checksum()
    for sql in [s for s, code in REFUSED if code != "COPY"] + DATABASE_REFUSES:
        with pytest.raises(SqlRefused) as refused:
            await execute_read_only(sql, timeout_ms=2000)
        assert refused.value.code in {
            "READ_ONLY",
            "FORBIDDEN",
            "MULTIPLE_STATEMENTS",
            "SIDE_EFFECT",
            "SQL_ERROR",
        }, (sql, refused.value.code)
        if "provider_credential" in sql or "api_token" in sql:
            assert refused.value.code == "FORBIDDEN", (sql, refused.value.message)
    with pytest.raises(SqlRefused) as explained:  # passes the text checks: the database refuses
        await run(
            "EXPLAIN ANALYZE DELETE FROM app_user" if POSTGRES else "EXPLAIN DELETE FROM app_user"
        )
    assert explained.value.code == "READ_ONLY", explained.value.message
    with pytest.raises(SqlRefused) as slow:
        await run(SLOW, timeout_ms=300)
    assert slow.value.code == "TIMEOUT"
    assert await run("SELECT 1 AS still_fine")  # the runner works after all of that
    assert await _checksum() == before


async def test_graphql_runs_are_audited_and_queries_saved(
    live_server: LiveServer, token_for: TokenFor
) -> None:
    admin = await make_person(tasks=False, role="admin")
    token = await token_for(admin)
    ok = gql(live_server, token, RUN_SQL, sql="SELECT 2 AS two", reason="checking")["data"]
    assert ok["runSql"]["result"] == {"columns": ["two"], "rows": [["2"]], "truncated": False}
    refused = gql(live_server, token, RUN_SQL, sql="DELETE FROM app_user")["data"]["runSql"]
    assert refused["result"] is None
    assert refused["errors"][0]["code"] == "READ_ONLY"
    secret = gql(live_server, token, RUN_SQL, sql="SELECT * FROM api_token")["data"]["runSql"]
    assert secret["errors"][0]["code"] == "FORBIDDEN"
    runs = await audit.recent(10, "sql.run", None, admin.user_id)
    assert len(runs) == 3
    assert {e.detail.get("refused") for e in runs} == {None, "READ_ONLY", "FORBIDDEN"}
    assert any(e.detail.get("reason") == "checking" and e.detail.get("rows") == 1 for e in runs)

    saved = gql(live_server, token, SAVE, name="Daily tips", sql="SELECT * FROM admin_day")
    assert saved["data"]["saveQuery"]["query"]["authorEmail"] == admin.email
    again = gql(live_server, token, SAVE, name="Daily tips", sql="SELECT 1")["data"]["saveQuery"]
    assert again["errors"] == [{"code": "NAME_TAKEN", "field": "name"}]
    bad = gql(live_server, token, SAVE, name="Wipe", sql="DELETE FROM app_user")["data"]
    assert bad["saveQuery"]["errors"][0]["code"] == "READ_ONLY"
    listed = gql(live_server, token, SAVED)["data"]["savedQueries"]
    assert [q["name"] for q in listed] == ["Daily tips"]

    person = await make_person(tasks=False)
    forbidden = gql(live_server, await token_for(person), RUN_SQL, sql="SELECT 1")
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_page_shows_a_table_a_csv_and_friendly_refusals(live_server: LiveServer) -> None:
    admin = await make_person(tasks=False, role="admin")
    client = await _browser_for(live_server, admin)
    page = client.get("/admin/sql")
    assert page.status_code == 200
    csrf = {"_csrf_token": client.cookies["csrftoken"]}
    shown = client.post("/admin/sql", data={**csrf, "sql": "SELECT 'x,y' AS pair, 3 AS n"})
    assert shown.status_code == 200
    assert '<th scope="col">pair</th>' in shown.text
    assert "x,y" in shown.text
    csv = client.post(
        "/admin/sql", data={**csrf, "sql": "SELECT 'x,y' AS pair, '=1+1' AS f", "intent": "csv"}
    )
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines() == ["pair,f", '"x,y",\'=1+1']
    refused = client.post("/admin/sql", data={**csrf, "sql": "DROP TABLE app_user"})
    assert refused.status_code == 400
    assert "only reads" in refused.text
    saved = client.post(
        "/admin/sql", data={**csrf, "sql": "SELECT 1", "intent": "save", "name": "One"}
    )
    assert "Saved as" in saved.text
    assert client.get("/admin/sql?saved=nope").status_code == 404
    person = await make_person(tasks=False)
    assert (await _browser_for(live_server, person)).get("/admin/sql").status_code == 403
    assert live_server.client().get("/admin/sql", follow_redirects=False).status_code == 303
