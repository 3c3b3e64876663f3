"""Catalog search semantics: match AND/OR, term, range, size, nested bool."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from kroton_pipeline.sandbox.catalog import Catalog
from kroton_pipeline.sandbox.query import QueryError, compile_query, search, tokens
from kroton_pipeline_tests.sandbox.conftest import SEARCH_PATH

TODAY = date(2026, 11, 29)
DOC = {
    "dsCurso": "Análise e Desenvolvimento de Sistemas",
    "vlMensalidadeDe": 329.9,
    "ativa": True,
    "periodoCaptacao": 20271,
    "dtTerminoInscricao": "2027-03-01",
    "sistema": "COLABORAR",
}


def matches(query: dict[str, Any]) -> bool:
    return compile_query(query, TODAY)(DOC)


def test_text_is_tokenised_case_and_accent_insensitively() -> None:
    assert tokens("Análise e Desenvolvimento") == ["analise", "e", "desenvolvimento"]
    assert matches({"match": {"dsCurso": "ANALISE"}})


def test_match_operator_and_needs_every_token_or_needs_one() -> None:
    assert matches({"match": {"dsCurso": {"query": "analise sistemas", "operator": "AND"}}})
    assert not matches({"match": {"dsCurso": {"query": "analise direito", "operator": "AND"}}})
    assert matches({"match": {"dsCurso": {"query": "analise direito", "operator": "OR"}}})
    assert matches({"match": {"dsCurso": "analise direito"}})  # OR is the default


def test_match_on_numbers_and_booleans_is_exact() -> None:
    assert matches({"match": {"vlMensalidadeDe": 329.9}})
    assert matches({"match": {"vlMensalidadeDe": "329.90"}})
    assert not matches({"match": {"vlMensalidadeDe": 329.0}})
    assert matches({"match": {"ativa": True}})
    assert not matches({"match": {"ativa": False}})


def test_term_is_exact() -> None:
    assert matches({"term": {"periodoCaptacao": 20271}})
    assert matches({"term": {"sistema": {"value": "COLABORAR"}}})
    assert not matches({"term": {"sistema": "colaborar"}})


def test_range_on_dates_and_numbers() -> None:
    assert matches({"range": {"dtTerminoInscricao": {"gte": "2026-11-29"}}})
    assert not matches({"range": {"dtTerminoInscricao": {"gt": "2027-03-01"}}})
    assert matches({"range": {"dtTerminoInscricao": {"gte": "now/d"}}})
    assert matches({"range": {"vlMensalidadeDe": {"gte": 300, "lt": 330}}})
    assert not matches({"range": {"vlMensalidadeDe": {"lte": 329}}})


def test_nested_bool_must_filter_should_must_not() -> None:
    query = {
        "bool": {
            "filter": [{"term": {"ativa": True}}],
            "must": [
                {
                    "bool": {
                        "should": [
                            {"term": {"sistema": "OLIMPO"}},
                            {"match": {"dsCurso": "sistemas"}},
                        ]
                    }
                }
            ],
            "must_not": [{"range": {"vlMensalidadeDe": {"gt": 1000}}}],
        }
    }
    assert matches(query)
    assert not matches({"bool": {"must_not": [{"match": {"ativa": True}}]}})
    assert not matches({"bool": {"should": [{"term": {"sistema": "OLIMPO"}}]}})


def test_unknown_clauses_raise() -> None:
    with pytest.raises(QueryError):
        compile_query({"fuzzy": {"dsCurso": "x"}}, TODAY)
    with pytest.raises(QueryError):
        compile_query({"bool": {"musts": []}}, TODAY)


def pipeline_query(offer: dict[str, Any], today: str) -> dict[str, Any]:
    return {
        "bool": {
            "must": [
                {"match": {"dsCurso": {"query": offer["dsCurso"], "operator": "AND"}}},
                {"match": {"idUnidadeOrigem": offer["idUnidadeOrigem"]}},
                {"match": {"dsTipoCurso": offer["dsTipoCurso"]}},
                {"match": {"vlMensalidadeDe": offer["vlMensalidadeDe"]}},
                {"match": {"ativa": True}},
                {"match": {"dsModalidade": offer["dsModalidade"]}},
                {"term": {"periodoCaptacao": offer["periodoCaptacao"]}},
                {"range": {"dtTerminoInscricao": {"gte": today}}},
            ]
        }
    }


def test_bundled_catalog_shape() -> None:
    catalog = Catalog()
    assert len(catalog.offers) >= 300
    assert {o["sistema"] for o in catalog.offers} == {"OLIMPO", "COLABORAR"}
    assert {o["dsModalidade"] for o in catalog.offers} == {"Presencial", "EAD", "Semipresencial"}
    assert any(not o["ativa"] for o in catalog.offers)
    assert any(o["dtTerminoInscricao"] < "2026-11-29" for o in catalog.offers)
    assert len({o["idUnidadeOrigem"] for o in catalog.offers}) >= 8


def test_most_pipeline_searches_find_two_offers_some_fewer() -> None:
    catalog = Catalog()
    counts = [
        len(search(pipeline_query(o, "2026-11-29"), catalog.offers, TODAY)) for o in catalog.offers
    ]
    assert sum(c >= 2 for c in counts) / len(counts) > 0.7
    assert any(c < 2 for c in counts)


@pytest.mark.integration
def test_search_over_http_with_the_pipeline_query(catalog_client: httpx.Client) -> None:
    offer = Catalog().offers[1]
    body = {"query": pipeline_query(offer, "2026-11-29"), "size": 1}
    reply = catalog_client.post(SEARCH_PATH, json=body)
    assert reply.status_code == 200
    result = reply.json()
    assert result["timed_out"] is False
    total = result["hits"]["total"]
    assert total["relation"] == "eq" and total["value"] >= 1
    assert len(result["hits"]["hits"]) == 1  # size limits the hits, not the total
    hit = result["hits"]["hits"][0]
    assert hit["_id"] == hit["_source"]["id"]
    assert hit["_source"]["dsCurso"] == offer["dsCurso"]
    assert set(hit["_source"]) >= {
        "id",
        "dsCurso",
        "dsTipoCurso",
        "dsModalidade",
        "vlMensalidadeDe",
        "dtTerminoInscricao",
        "ativa",
        "periodoCaptacao",
        "sistema",
        "idUnidadeOrigem",
        "nmUnidade",
        "dsTurno",
        "nmCampus",
        "cidade",
        "uf",
    }


@pytest.mark.integration
def test_search_default_size_is_ten_and_bad_query_is_400(catalog_client: httpx.Client) -> None:
    everything = catalog_client.post(SEARCH_PATH, json={"query": {"match_all": {}}}).json()
    assert len(everything["hits"]["hits"]) == 10
    assert everything["hits"]["total"]["value"] == len(Catalog().offers)
    bad = catalog_client.post(SEARCH_PATH, json={"query": {"wildcard": {"dsCurso": "*"}}})
    assert bad.status_code == 400
