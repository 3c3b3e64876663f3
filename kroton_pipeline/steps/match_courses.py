"""syncCourses: find two catalog offers for each lead.

Leads that share a desired course share one catalog search: each distinct search is sent
once per call, however many leads wait on it. Two or more offers → ``to_register`` with the
first two as options (each recording the query that found it and when); fewer →
``empty_course``; an error → ``course_failed``, retried by the next run.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from sqlalchemy import Engine, delete, func, select, update

from kroton_pipeline.clients.transport import AuthenticationFailed, KrotonError
from kroton_pipeline.db.engine import insert_rows
from kroton_pipeline.db.models import CourseOption, Subscription
from kroton_pipeline.db.status_changes import StatusChange, apply_status_changes
from kroton_pipeline.domain.kroton_api import CourseSearch, build_course_query, choose_options
from kroton_pipeline.domain.leads import GENDER_UNKNOWN
from kroton_pipeline.domain.statuses import Status, StatusReason, reason
from kroton_pipeline.settings import utcnow

log = logging.getLogger(__name__)

WAITING_FOR_COURSES = (Status.TO_SYNC.value, Status.COURSE_FAILED.value)


class CatalogSearcher(Protocol):
    def search(self, query: dict[str, Any]) -> Any: ...


@dataclass
class CourseMatchResult:
    import_date: date
    leads: int = 0
    waiting_for_gender: int = 0
    searches: int = 0
    to_register: int = 0
    empty_course: int = 0
    course_failed: int = 0
    errors_by_kind: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


class SearchOncePerRun:
    """A catalog that sends each distinct query once, however many import dates ask it.

    ``match_courses`` already groups one date's leads by search; a backfill run covering
    several dates shares one of these so that a course wanted on two days costs one call.
    Failures are not remembered: the next date asks again.
    """

    def __init__(self, catalog: CatalogSearcher) -> None:
        self.catalog = catalog
        self.answers: dict[str, Any] = {}

    def search(self, query: dict[str, Any]) -> Any:
        key = json.dumps(query, sort_keys=True, default=str)
        if key not in self.answers:
            self.answers[key] = self.catalog.search(query)
        return self.answers[key]


def _hits(answer: Any) -> list[dict[str, Any]]:
    if isinstance(answer, dict):
        return list(answer.get("hits", {}).get("hits", []))
    return list(answer.offers)  # CatalogSearchResult: each hit's _source, unchanged


def match_courses(
    engine: Engine,
    catalog: CatalogSearcher,
    import_date: date,
    today: date,
    run_id: str | None,
    progress: Callable[[int, int], None] | None = None,
) -> CourseMatchResult:
    """Search the catalog for every lead of ``import_date`` that still needs offers."""
    started = time.monotonic()
    result = CourseMatchResult(import_date)
    with engine.connect() as conn:
        rows = (
            conn.execute(
                select(Subscription).where(
                    Subscription.import_date == import_date,
                    Subscription.status.in_(WAITING_FOR_COURSES),
                    Subscription.gender.is_not(None),
                    Subscription.gender != GENDER_UNKNOWN,
                )
            )
            .mappings()
            .all()
        )
        # Not searched until fix_data gave them a gender: they may never be sendable.
        result.waiting_for_gender = conn.execute(
            select(func.count()).where(
                Subscription.import_date == import_date,
                Subscription.status.in_(WAITING_FOR_COURSES),
                Subscription.gender.is_(None),
            )
        ).scalar_one()
    groups: dict[CourseSearch, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[CourseSearch.from_row(row)].append(dict(row))
    result.leads = len(rows)

    for done, (search, leads) in enumerate(sorted(groups.items()), start=1):
        query = build_course_query(search, today)
        searched_at = utcnow()
        try:
            answer = catalog.search(query)
            options = choose_options(_hits(answer))
        except AuthenticationFailed:
            raise
        except KrotonError as exc:
            kind = type(exc).__name__
            result.errors_by_kind[kind] = result.errors_by_kind.get(kind, 0) + len(leads)
            _record_failure(engine, leads, kind, run_id)
            result.course_failed += len(leads)
        else:
            result.searches += 1
            _record_options(engine, leads, options, query, searched_at, run_id)
            if options:
                result.to_register += len(leads)
            else:
                result.empty_course += len(leads)
        if progress:
            progress(done, len(groups))
    result.seconds = time.monotonic() - started
    log.info(
        "sync_courses %s: %d leads, %d searches, %d to_register, %d empty, %d failed",
        import_date,
        result.leads,
        result.searches,
        result.to_register,
        result.empty_course,
        result.course_failed,
    )
    return result


def _record_options(
    engine: Engine,
    leads: list[dict[str, Any]],
    options: list[dict[str, Any]] | None,
    query: dict[str, Any],
    searched_at,
    run_id: str | None,
) -> None:
    ids = [lead["id"] for lead in leads]
    with engine.begin() as conn:
        if options:
            conn.execute(delete(CourseOption).where(CourseOption.subscription_id.in_(ids)))
            insert_rows(
                conn,
                CourseOption,
                [
                    {
                        "subscription_id": sub_id,
                        "rank": rank,
                        "offer_id": str(offer["id"]),
                        "offer": offer,
                        "query": query,
                        "searched_at": searched_at,
                    }
                    for sub_id in ids
                    for rank, offer in enumerate(options, start=1)
                ],
            )
            changes = [
                StatusChange(sub_id, Status.TO_REGISTER, reason(StatusReason.OFFERS_FOUND))
                for sub_id in ids
            ]
        else:
            changes = [
                StatusChange(sub_id, Status.EMPTY_COURSE, reason(StatusReason.NO_OFFERS))
                for sub_id in ids
            ]
        apply_status_changes(conn, changes, run_id)


def _record_failure(
    engine: Engine, leads: list[dict[str, Any]], kind: str, run_id: str | None
) -> None:
    ids = [lead["id"] for lead in leads]
    with engine.begin() as conn:
        first_time = [lead["id"] for lead in leads if lead["status"] == Status.TO_SYNC.value]
        apply_status_changes(
            conn,
            [
                StatusChange(
                    sub_id, Status.COURSE_FAILED, reason(StatusReason.CATALOG_FAILED, kind)
                )
                for sub_id in first_time
            ],
            run_id,
        )
        # After the status change (which resets attempts) so that this failure counts.
        conn.execute(
            update(Subscription)
            .where(Subscription.id.in_(ids))
            .values(attempts=Subscription.attempts + 1, last_error=f"catalog: {kind}")
        )
