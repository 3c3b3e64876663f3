"""Health checks of a deployment: ``python -m kroton_pipeline.health``.

One line per check, exit code 1 when any fails. Checks: settings complete, database
reachable, ``names`` table loaded, Kroton token, Captação token, catalog search. Lines name
the check and what was found, never a secret, a URL with credentials or personal data.

The same checks run in Dagster as the ``deployment_health`` asset's checks (job
``health_check``), on the Dagster resources instead of clients built here.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import Engine, text

from kroton_pipeline.clients.captacao import CaptacaoClient
from kroton_pipeline.clients.kroton import CatalogClient, KrotonClient
from kroton_pipeline.clients.transport import RetryPolicy, make_budget
from kroton_pipeline.db import engine as database
from kroton_pipeline.db.engine import is_sqlite, make_engine
from kroton_pipeline.domain.leads import scrub
from kroton_pipeline.settings import Settings, SettingsError, alert_thresholds, load_settings
from kroton_pipeline.steps.fill_genders import names_loaded

# Fewer rows means the census table was never loaded (same figure as fix_data's check in
# defs/genders/assets.py, not imported: that module pulls in every asset decorator).
NAMES_LOADED_THRESHOLD = 1000
HEALTH_CHECK_NAMES = (
    "settings",
    "database",
    "names_table",
    "kroton_token",
    "captacao_token",
    "catalog_search",
)
# Health checks fail fast: one retry, short timeouts (a job's clients try harder).
HEALTH_POLICY = RetryPolicy(max_attempts=2, backoff_base_seconds=0.2, backoff_max_seconds=1.0)
HEALTH_TIMEOUT_SECONDS = 10.0
PG_TIMEOUT = {"connect_timeout": 10}
# How long a check may wait for the shared rate budget before it reports the budget as busy.
MAX_BUDGET_WAIT_SECONDS = 20.0


class BudgetBusy(RuntimeError):
    """The deployment's rate budget is in use for longer than a health check waits."""


def _bounded_sleep(limit: float) -> Callable[[float], None]:
    waited = 0.0

    def sleep(seconds: float) -> None:
        nonlocal waited
        if waited + seconds > limit:
            raise BudgetBusy(
                f"shared rate budget in use for another {seconds:.0f} s (runs are spending "
                "it); not checked"
            )
        waited += seconds
        time.sleep(seconds)

    return sleep


@dataclass(frozen=True)
class CheckOutcome:
    """One check: its name, whether it passed, and what was found (no secrets)."""

    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.name:<15} {self.detail}"


def _error(exc: BaseException) -> str:
    """Exception class and first line, scrubbed; driver messages name hosts, never passwords."""
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    return f"{type(exc).__name__}: {scrub(first)}" if first else type(exc).__name__


def check_settings(
    environ: Mapping[str, str] | None = None,
) -> tuple[CheckOutcome, Settings | None]:
    """Every required setting present and valid for ``KROTON_ENV``."""
    try:
        settings = load_settings(environ)
        alert_thresholds(environ)
    except SettingsError as exc:
        return CheckOutcome("settings", False, str(exc)), None
    slack = "on" if settings.slack_enabled else "off (SLACK_BOT_TOKEN/SLACK_CHANNEL unset)"
    detail = f"KROTON_ENV={settings.env}, every credential set, Slack {slack}"
    return CheckOutcome("settings", True, detail), settings


def check_database(engine: Engine) -> CheckOutcome:
    """The database answers; says which schema revision it is at."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        revision = database.current(engine.url.render_as_string(hide_password=False))
    except Exception as exc:  # any driver error means unreachable
        return CheckOutcome("database", False, f"unreachable: {_error(exc)}")
    head = database.head()
    state = (
        "latest" if revision == head else f"{revision or 'empty'}, migrated to {head} on first run"
    )
    return CheckOutcome("database", True, f"{engine.dialect.name} reachable, schema {state}")


def check_names(engine: Engine, minimum: int = NAMES_LOADED_THRESHOLD) -> CheckOutcome:
    """The IBGE ``names`` table holds the census (needed by fix_data)."""
    try:
        with engine.connect() as conn:
            rows = names_loaded(conn)
    except Exception as exc:  # missing table, unreachable database
        return CheckOutcome("names_table", False, f"not readable: {_error(exc)}")
    if rows < minimum:
        return CheckOutcome(
            "names_table",
            False,
            f"{rows} names loaded, expected at least {minimum} "
            "(load with `python -m kroton_pipeline.data.names` or materialize ibge_names)",
        )
    return CheckOutcome("names_table", True, f"{rows} names loaded")


def check_client(name: str, health: Callable[[], object]) -> CheckOutcome:
    """Run a client's or resource's ``health()`` (a ``HealthResult``) as check ``name``."""
    try:
        result = health()
    except Exception as exc:  # a resource that cannot even build its client
        return CheckOutcome(name, False, _error(exc))
    return CheckOutcome(name, bool(result.ok), scrub(str(result.detail)))  # type: ignore[attr-defined]


def _clients(settings: Settings, budget_url: str | None) -> dict[str, object]:
    def budget(bucket: str, limit: int, window: float):
        sleep = _bounded_sleep(MAX_BUDGET_WAIT_SECONDS)
        return make_budget(budget_url, bucket, limit, window, sleep=sleep)

    kroton_budget = settings.kroton_budget
    common = {"timeout_seconds": HEALTH_TIMEOUT_SECONDS, "policy": HEALTH_POLICY}
    return {
        "kroton_token": KrotonClient(
            base_url=settings.kroton_base_url,
            client_id=settings.kroton_client_id,
            client_secret=settings.kroton_secret,
            subscription_key=settings.kroton_subscription_key,
            budget=budget("kroton", kroton_budget.requests, kroton_budget.window_seconds),
            **common,
        ),
        # Captação draws from Kroton's budget, as in the pipeline's resources.
        "captacao_token": CaptacaoClient(
            base_url=settings.captacao_base_url,
            email=settings.captacao_email,
            password=settings.captacao_password,
            subscription_key=settings.kroton_subscription_key,
            budget=budget("kroton", kroton_budget.requests, kroton_budget.window_seconds),
            **common,
        ),
        "catalog_search": CatalogClient(
            base_url=settings.catalog_base_url,
            api_key=settings.catalog_api_key,
            auth_scheme=settings.catalog_auth_scheme,
            budget=budget(
                "catalog", settings.catalog_budget.requests, settings.catalog_budget.window_seconds
            ),
            **common,
        ),
    }


def run_health_checks(environ: Mapping[str, str] | None = None) -> list[CheckOutcome]:
    """Every check, in order; a check that cannot run for lack of settings fails as skipped."""
    settings_outcome, settings = check_settings(environ)
    outcomes = [settings_outcome]
    if settings is None:
        return outcomes + [
            CheckOutcome(name, False, "skipped: settings invalid")
            for name in HEALTH_CHECK_NAMES[1:]
        ]
    url = settings.database_url
    engine = make_engine(url) if is_sqlite(url) else make_engine(url, connect_args=PG_TIMEOUT)
    try:
        database = check_database(engine)
        outcomes += [database, check_names(engine)]
    finally:
        engine.dispose()
    # The API checks draw from the deployment's shared budget when its table is there.
    shared = database.ok and database.detail.endswith("schema latest")
    clients = _clients(settings, settings.database_url if shared else None)
    for name, client in clients.items():
        try:
            outcomes.append(check_client(name, client.health))  # type: ignore[attr-defined]
        finally:
            client.close()  # type: ignore[attr-defined]
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kroton_pipeline.health",
        description="Check settings, database, names table, Kroton, Captação and the catalog.",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="also show the clients' retry warnings (stderr)"
    )
    args = parser.parse_args(argv)
    # The lines below say what failed; the clients' per-attempt warnings are noise here. The
    # level is put back afterwards: the command may run inside a longer-lived process.
    logger = logging.getLogger("kroton_pipeline")
    level = logger.level
    if not args.verbose:
        logger.setLevel(logging.ERROR)
    try:
        outcomes = run_health_checks()
    finally:
        logger.setLevel(level)
    for outcome in outcomes:
        print(outcome.line())
    failed = [outcome.name for outcome in outcomes if not outcome.ok]
    print(
        f"{len(outcomes) - len(failed)}/{len(outcomes)} checks passed"
        + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
