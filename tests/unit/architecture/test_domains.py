"""One declaration per domain, one list: the app, the schema, the worker and Piccolo all read
`backend.domains`, so a domain's parts appear everywhere by being declared once."""

from __future__ import annotations

import pytest

from backend.domain import Domain
from backend.domains import DOMAINS, INSTALLED
from backend.settings import ROOT


def test_every_domain_folder_is_installed_under_its_own_name() -> None:
    folders = {p.parent.name for p in (ROOT / "backend").glob("*/domain.py")}
    assert folders == {p.rsplit(".", 1)[-1] for p in INSTALLED}
    for package, domain in zip(INSTALLED, DOMAINS, strict=True):
        assert isinstance(domain, Domain)
        assert package == f"backend.{domain.name}"


def test_the_worker_runs_exactly_the_declared_jobs() -> None:
    from worker.settings import WorkerSettings

    declared = [job for d in DOMAINS for job in d.jobs]
    assert WorkerSettings.functions == declared
    assert WorkerSettings.cron_jobs == [c for d in DOMAINS for c in d.cron_jobs]
    assert declared, "the domains declare jobs"


def test_piccolo_registers_each_declared_app() -> None:
    from backend.piccolo_conf import APP_REGISTRY

    apps = [d.piccolo_app for d in DOMAINS if d.piccolo_app]
    assert sorted(APP_REGISTRY.apps) == sorted(apps)


def test_the_schema_has_every_declared_field() -> None:
    from backend.schema import schema

    root = {
        "Query": [q for d in DOMAINS for q in d.queries],
        "Mutation": [m for d in DOMAINS for m in d.mutations],
        "Subscription": [s for d in DOMAINS for s in d.subscriptions],
    }
    for type_name, parts in root.items():
        gql_type = schema.get_type_by_name(type_name)
        assert gql_type is not None
        exported = {f.python_name for f in gql_type.fields}  # type: ignore[union-attr]
        declared = {
            f.python_name
            for part in parts
            for f in part.__strawberry_definition__.fields  # type: ignore[attr-defined]
        }
        assert declared == exported, type_name


# Building the app in-process shows Litestar 3's deprecation notices (inferred path parameters
# and dependencies); the served app is unaffected, so they are not errors here.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_the_app_serves_every_declared_route() -> None:
    from backend.app import create_app

    paths = {r.path for r in create_app().routes}
    for domain in DOMAINS:
        for handler in domain.routes:
            for path in handler.paths:
                assert path in paths, f"{domain.name}: {path}"
