"""API economy: Kroton and catalog calls for one import of 1,000 leads over ~40 searches.

Ours: the product's steps (import, gender fill, course matching, registration) with the
product's clients on a temporary SQLite database, against an in-process sandbox whose limit
is out of the way. Every figure comes from the sandbox journal. Baseline: the source
document's pattern — per lead one catalog search, two CPF look-ups (inscription and
enrolment) and one POST — run with the same clients, the same leads and an identical sandbox
(same seed; a second instance, because the first already holds our registrations).

``python -m benchmarks.api_economy``
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from benchmarks.harness import (
    KROTON_REQUESTS_PER_DAY,
    Figure,
    cached_export,
    export_file,
    met,
    print_report,
    ratio,
    sandbox_clients,
    sqlite_database,
)
from kroton_pipeline.domain.budget_plan import BudgetPlan, looks_per_lead, steady_state_daily_looks
from kroton_pipeline.domain.kroton_api import TrackingRules

LEADS = 1000
DISTINCT_SEARCHES = 40
EXPORT_SEED = 11
SANDBOX_SEED = 7
UNLIMITED = {"rate_limit": 1_000_000, "rate_window": 1.0}


def _calls(journal: list[dict[str, Any]], system: str) -> Counter[str]:
    return Counter(entry["endpoint"] for entry in journal if entry["system"] == system)


def _new_registrations(journal: list[dict[str, Any]]) -> int:
    return sum(
        1 for e in journal if e["endpoint"] == "register" and 200 <= (e["status"] or 0) < 300
    )


def naive_baseline(leads: list[dict[str, Any]], kroton: Any, catalog: Any, today) -> None:
    """The source service's loop: search, look up twice, POST — once per lead, no sharing."""
    from kroton_pipeline.clients.transport import KrotonError
    from kroton_pipeline.domain.kroton_api import (
        CourseSearch,
        PayloadError,
        build_course_query,
        build_enrolment_payload,
        choose_options,
    )
    from kroton_pipeline.settings import BusinessRules

    rules = BusinessRules()
    for lead in leads:
        answer = catalog.search(build_course_query(CourseSearch.from_row(lead), today))
        options = choose_options(list(answer.offers))
        if not options:
            continue
        inscriptions = kroton.inscriptions_by_cpf(lead["cpf"])
        kroton.enrolments_by_cpf(lead["cpf"])
        if inscriptions.inscriptions:
            continue
        try:
            payload = build_enrolment_payload(lead, options[0]["id"], options[1]["id"], rules)
            kroton.register(payload)
        except (PayloadError, KrotonError):
            continue


@dataclass
class OursRun:
    """One run of the product's steps in one dialect: what the sandbox saw."""

    dialect: str
    leads: list[dict[str, Any]]
    journal: list[dict[str, Any]]
    polling: list[dict[str, Any]]
    to_register: int
    found_at_kroton: int
    seconds: float

    @property
    def kroton_calls(self) -> Counter[str]:
        return _calls(self.journal, "kroton")

    @property
    def new(self) -> int:
        return _new_registrations(self.journal)

    @property
    def per_new(self) -> float:
        return sum(self.kroton_calls.values()) / max(self.new, 1)

    @property
    def polls_per_new(self) -> float:
        return sum(_calls(self.polling, "kroton").values()) / max(self.new, 1)


def run_ours(dialect: str, path: Any, today: date) -> OursRun:
    """Import, fill genders, match courses and register 1,000 leads against a sandbox that
    speaks ``dialect``; then, 15 sandbox minutes later, the polling pass."""
    from sqlalchemy import select

    from kroton_pipeline.data.names import load_names
    from kroton_pipeline.db.engine import make_engine
    from kroton_pipeline.db.models import Subscription
    from kroton_pipeline.domain.leads import GENDER_UNKNOWN
    from kroton_pipeline.sandbox import SandboxServer
    from kroton_pipeline.settings import BusinessRules, utcnow
    from kroton_pipeline.steps.fill_genders import fill_genders
    from kroton_pipeline.steps.import_leads import import_export
    from kroton_pipeline.steps.match_courses import WAITING_FOR_COURSES, match_courses
    from kroton_pipeline.steps.register_leads import register_leads

    rules = BusinessRules(payload_extras=dialect == "v5")
    with sqlite_database() as url:
        engine = make_engine(url)
        load_names(engine)
        import_export(engine, export_file(path, today), rules, None)
        fill_genders(engine, today, rules.gender_min_ratio, None, utcnow())
        with engine.connect() as conn:
            leads = [
                dict(row)
                for row in conn.execute(
                    select(Subscription).where(
                        Subscription.import_date == today,
                        Subscription.status.in_(WAITING_FOR_COURSES),
                        Subscription.gender != GENDER_UNKNOWN,
                    )
                ).mappings()
            ]
        with SandboxServer(port=0, seed=SANDBOX_SEED, dialect=dialect, **UNLIMITED) as sb:
            kroton, catalog = sandbox_clients(sb)
            started = time.perf_counter()
            courses = match_courses(engine, catalog, today, today, None)
            registration = register_leads(engine, kroton, today, rules, None)
            seconds = time.perf_counter() - started
            journal = sb.journal()
            sb.clear_journal()
            # Later: Kroton has processed the pending inscriptions; the next pass polls them.
            sb.advance(15 * 60)
            register_leads(engine, kroton, today, rules, None, poll_after=timedelta(0))
            polling = sb.journal()
            kroton.close()
            catalog.close()
        engine.dispose()
    return OursRun(
        dialect,
        leads,
        journal,
        polling,
        courses.to_register,
        registration.found_at_kroton,
        seconds,
    )


def run() -> list[Figure]:
    """Run ours in both dialects and the baseline; return the table rows."""
    from kroton_pipeline.sandbox import SandboxServer
    from kroton_pipeline.settings import today_in_sao_paulo

    today = today_in_sao_paulo()
    path = cached_export(today, LEADS, EXPORT_SEED, DISTINCT_SEARCHES)
    runs = {dialect: run_ours(dialect, path, today) for dialect in ("source", "v5")}
    ours = runs["source"]
    leads = ours.leads

    with SandboxServer(port=0, seed=SANDBOX_SEED, **UNLIMITED) as sb:
        kroton, catalog = sandbox_clients(sb)
        started = time.perf_counter()
        naive_baseline(leads, kroton, catalog, today)
        base_seconds = time.perf_counter() - started
        base = sb.journal()
        kroton.close()
        catalog.close()

    searches = len(
        {
            (
                lead["course_name"],
                lead["unit_id"],
                lead["course_type"],
                str(lead["monthly_price"]),
                lead["modality"],
                lead["capture_period"],
            )
            for lead in leads
        }
    )
    base_kroton = _calls(base, "kroton")
    base_new = _new_registrations(base)
    base_per_new = sum(base_kroton.values()) / max(base_new, 1)
    ours_catalog = sum(_calls(ours.journal, "catalog").values())
    base_catalog = sum(_calls(base, "catalog").values())
    print(
        f"api_economy: {len(leads)} leads to match ({searches} distinct searches), "
        f"{ours.to_register} to register, {ours.found_at_kroton} found at Kroton, "
        f"{ours.new} newly registered (baseline {base_new}); "
        f"ours {ours.seconds:.1f} s, baseline {base_seconds:.1f} s (measured, not modelled)"
    )
    for dialect, one in runs.items():
        print(f"  ours ({dialect}) Kroton calls by endpoint: {dict(one.kroton_calls)}")
        print(f"  ours ({dialect}) later polling pass: {dict(_calls(one.polling, 'kroton'))}")
    print(f"  baseline Kroton calls by endpoint: {dict(base_kroton)}")
    per_day, base_per_day = (
        KROTON_REQUESTS_PER_DAY / ours.per_new,
        KROTON_REQUESTS_PER_DAY / base_per_new,
    )
    name = "1 API economy"
    return [
        *(
            Figure(
                name,
                f"Kroton calls per new lead, {dialect} dialect (token+look-ups+POST)",
                f"{one.per_new:.3f}",
                f"{base_per_new:.3f}",
                ratio(one.per_new, base_per_new),
                "≤ 2.05",
                met(one.per_new <= 2.05),
            )
            for dialect, one in runs.items()
        ),
        Figure(
            name,
            f"catalog calls per import ({searches} distinct searches)",
            str(ours_catalog),
            str(base_catalog),
            ratio(ours_catalog, base_catalog),
            f"≤ {searches}",
            met(ours_catalog <= searches),
        ),
        Figure(
            name,
            "later polling calls per new lead (not in the above)",
            f"{ours.polls_per_new:.3f}",
        ),
        Figure(
            name,
            "new leads/day in Kroton's 28,800 req/day",
            f"{per_day:,.0f}",
            f"{base_per_day:,.0f}",
            ratio(per_day, base_per_day),
        ),
        *budget_split_figures(ours.per_new + ours.polls_per_new),
    ]


def budget_split_figures(calls_per_new_lead: float) -> list[Figure]:
    """The daily budget plan: registrations first, follow-ups capped, and what fits."""
    plan = BudgetPlan()
    name = "1 budget plan"
    # A lead followed for the whole horizon (no inscription window known): the most looks.
    tracked_days = TrackingRules().horizon_days
    look_ups = looks_per_lead(tracked_days)
    intake = plan.sustainable_intake(calls_per_new_lead, look_ups)
    quiet_day = plan.follow_up_allowance(intake * calls_per_new_lead)
    return [
        Figure(name, "daily Kroton requests (100 per 300 s)", f"{plan.daily_requests:,}"),
        Figure(
            name,
            f"kept for registrations + pre-checks + polling ({1 - plan.follow_up_share:.0%})",
            f"{plan.registration_share:,}",
        ),
        Figure(
            name,
            f"follow-up cap ({plan.follow_up_share:.0%}, always theirs)",
            f"{plan.follow_up_cap:,}",
        ),
        Figure(
            name,
            f"new leads/day the registration share sends ({calls_per_new_lead:.2f} calls each)",
            f"{plan.new_leads_per_day(calls_per_new_lead):,}",
        ),
        Figure(
            name,
            f"new leads/day registered and followed ({look_ups} look-ups over {tracked_days} days)",
            f"{intake:,}",
        ),
        Figure(
            name,
            "follow-up allowance at that intake (cap + what registrations leave)",
            f"{quiet_day:,}",
            target=f"≥ {steady_state_daily_looks(intake, tracked_days):,} needed",
            verdict=met(quiet_day >= steady_state_daily_looks(intake, tracked_days)),
        ),
    ]


def main() -> int:
    started = time.perf_counter()
    figures = run()
    print_report("API economy", figures, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
