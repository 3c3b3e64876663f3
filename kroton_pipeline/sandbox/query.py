"""Evaluate the subset of Elasticsearch's query DSL the catalog middleware is used with.

Pure functions: ``matches(query, doc)`` says whether a document satisfies a query and
``score(query, doc)`` gives a simple relevance figure. Supported: ``bool`` (must, filter,
should, must_not, minimum_should_match), ``match`` (text tokenised case- and
accent-insensitively, operator AND/OR, numbers and booleans exact), ``term``/``terms``
(exact), ``range`` (gte/gt/lte/lt on numbers and ISO dates, ``now`` allowed) and
``match_all``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

_TOKEN = re.compile(r"[a-z0-9]+")


class QueryError(ValueError):
    """The query is malformed or uses a clause the sandbox does not support."""


def tokens(text: str) -> list[str]:
    """Lower-case, accent-free alphanumeric tokens of ``text`` (the standard analyser's gist)."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    return _TOKEN.findall(folded)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _single_field(clause: Any, kind: str) -> tuple[str, Any]:
    if not isinstance(clause, Mapping) or len(clause) != 1:
        raise QueryError(f"[{kind}] query must name exactly one field")
    return next(iter(clause.items()))


def _to_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _to_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _eq(doc_value: Any, query_value: Any) -> bool:
    """Exact comparison with Elasticsearch's coercion of numbers and booleans."""
    if isinstance(doc_value, bool):
        return _to_bool(query_value) is doc_value
    if isinstance(doc_value, int | float):
        number = _to_number(query_value)
        return number is not None and float(doc_value) == number
    return doc_value == query_value


def _match(clause: Any) -> Any:
    field, spec = _single_field(clause, "match")
    operator = "or"
    if isinstance(spec, Mapping):
        if "query" not in spec:
            raise QueryError("[match] query malformed, no [query] field")
        operator = str(spec.get("operator", "or")).lower()
        if operator not in ("and", "or"):
            raise QueryError("[match] operator must be AND or OR")
        spec = spec["query"]

    def test(doc: Mapping[str, Any]) -> bool:
        if field not in doc:
            return False
        value = doc[field]
        if isinstance(value, bool | int | float):
            return _eq(value, spec)
        wanted = tokens(str(spec))
        have = set(tokens(str(value)))
        if not wanted:
            return False
        hits = [t in have for t in wanted]
        return all(hits) if operator == "and" else any(hits)

    return test


def _term(clause: Any) -> Any:
    field, spec = _single_field(clause, "term")
    if isinstance(spec, Mapping):
        spec = spec.get("value")
    return lambda doc: field in doc and _eq(doc[field], spec)


def _terms(clause: Any) -> Any:
    field, values = _single_field(clause, "terms")
    if not isinstance(values, list):
        raise QueryError("[terms] query needs a list of values")
    return lambda doc: field in doc and any(_eq(doc[field], v) for v in values)


def _comparable(value: Any, today: date) -> Any:
    """Numbers stay numbers; ISO dates (or ``now``) become dates, else the raw string."""
    number = _to_number(value)
    if number is not None and not isinstance(value, str):
        return number
    text = str(value)
    if text.startswith("now"):
        return today
    try:
        return date.fromisoformat(text[:10]) if len(text) >= 10 else float(text)
    except ValueError:
        try:
            return datetime.fromisoformat(text).date()
        except ValueError:
            return number if number is not None else text


def _range(clause: Any, today: date) -> Any:
    field, bounds = _single_field(clause, "range")
    if not isinstance(bounds, Mapping):
        raise QueryError("[range] query needs an object of bounds")
    checks = {
        "gte": lambda a, b: a >= b,
        "gt": lambda a, b: a > b,
        "lte": lambda a, b: a <= b,
        "lt": lambda a, b: a < b,
    }
    active = [(checks[k], _comparable(v, today)) for k, v in bounds.items() if k in checks]

    def test(doc: Mapping[str, Any]) -> bool:
        if field not in doc or doc[field] is None:
            return False
        value = _comparable(doc[field], today)
        try:
            return all(op(value, bound) for op, bound in active)
        except TypeError:  # e.g. a date field compared with a number
            return False

    return test


def compile_query(query: Any, today: date) -> Any:
    """Turn a query dict into a predicate ``doc -> bool``; raise QueryError if unsupported."""
    if query is None:
        return lambda doc: True
    kind, clause = _single_field(query, "query")
    if kind == "match_all":
        return lambda doc: True
    if kind == "match":
        return _match(clause)
    if kind == "term":
        return _term(clause)
    if kind == "terms":
        return _terms(clause)
    if kind == "range":
        return _range(clause, today)
    if kind == "bool":
        return _bool(clause, today)
    raise QueryError(f"unknown query [{kind}]")


def _bool(clause: Any, today: date) -> Any:
    if not isinstance(clause, Mapping):
        raise QueryError("[bool] query needs an object")
    unknown = set(clause) - {"must", "filter", "should", "must_not", "minimum_should_match"}
    if unknown:
        raise QueryError(f"[bool] query does not support {sorted(unknown)}")
    required = [
        compile_query(q, today) for k in ("must", "filter") for q in _as_list(clause.get(k))
    ]
    excluded = [compile_query(q, today) for q in _as_list(clause.get("must_not"))]
    optional = [compile_query(q, today) for q in _as_list(clause.get("should"))]
    # Elasticsearch: with no must/filter, at least one should clause has to match.
    minimum = int(clause.get("minimum_should_match", 0 if required else 1 if optional else 0))

    def test(doc: Mapping[str, Any]) -> bool:
        if not all(p(doc) for p in required) or any(p(doc) for p in excluded):
            return False
        return sum(1 for p in optional if p(doc)) >= minimum

    return test


def search(
    query: Any, docs: list[Mapping[str, Any]], today: date
) -> list[tuple[float, Mapping[str, Any]]]:
    """Every doc matching ``query`` with a score, best first (ties keep catalog order)."""
    predicate = compile_query(query, today)
    should = _top_level_should(query, today)
    found = []
    for doc in docs:
        if predicate(doc):
            found.append((1.0 + sum(1 for p in should if p(doc)), doc))
    found.sort(key=lambda pair: -pair[0])
    return found


def _top_level_should(query: Any, today: date) -> list[Any]:
    if isinstance(query, Mapping) and isinstance(query.get("bool"), Mapping):
        return [compile_query(q, today) for q in _as_list(query["bool"].get("should"))]
    return []
