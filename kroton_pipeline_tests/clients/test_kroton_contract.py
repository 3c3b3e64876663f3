"""The Kroton client against canned answers of each dialect, over a real local HTTP server.

The server answers with the hand-written fixtures in ``kroton_answers/`` and records every
request, so each test checks both sides of the contract: what the client sends (paths, the
CPF's form, the token request) and how it reads what comes back.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from kroton_pipeline.clients.kroton import KrotonClient
from kroton_pipeline.clients.transport import KrotonRejected, MalformedResponse, NotFound
from kroton_pipeline.domain.statuses import Status
from kroton_pipeline.settings import API_FORMATS, KrotonApiFormat
from kroton_pipeline_tests.clients.conftest import CREDENTIALS, FAST

ANSWERS = Path(__file__).with_name("kroton_answers")
CPF = "12345678909"
PAYLOAD = {"dadosPessoais": {"cpf": "123.456.789-09"}, "inscricao": {}}


@dataclass
class CannedKroton:
    """Answers (method, path) with (status, body file or None); records every request."""

    answers: dict[tuple[str, str], tuple[int, str | None]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def answer(self, method: str, path: str, status: int, name: str | None) -> None:
        self.answers[(method, path)] = (status, name)


@pytest.fixture
def canned() -> Iterator[CannedKroton]:
    state = CannedKroton()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            state.requests.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "form": {k: v[0] for k, v in parse_qs(body).items()}
                    if "urlencoded" in self.headers.get("Content-Type", "")
                    else None,
                }
            )
            status, name = state.answers.get((self.command, self.path), (404, None))
            payload = (ANSWERS / name).read_bytes() if name else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            """Silent."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def client_for(canned: CannedKroton) -> Iterator[Callable[[KrotonApiFormat], KrotonClient]]:
    made: list[KrotonClient] = []

    def make(api_format: KrotonApiFormat) -> KrotonClient:
        client = KrotonClient(
            base_url=canned.url, api_format=api_format, policy=FAST, **CREDENTIALS
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


V5 = API_FORMATS["v5"]
SOURCE = API_FORMATS["source"]
V5_LOOKUP = "/ms/inscricaocqrs/captacao/v5/inscricao/cpf/123.456.789-09"
SOURCE_LOOKUP = f"/ms/inscricaocqrs/captacao/v5/inscricao/cpf/{CPF}"


def test_v5_token_request_has_no_scope_and_no_subscription_key(
    canned: CannedKroton, client_for: Callable[[KrotonApiFormat], KrotonClient]
) -> None:
    canned.answer("POST", "/oauth2/token", 200, "v5/token.json")  # expires_in as a string
    canned.answer("GET", V5_LOOKUP, 200, "v5/cpf_none.json")
    client = client_for(V5)
    assert client.inscriptions_by_cpf(CPF).inscriptions == ()
    token, lookup = canned.requests
    assert token["form"] == {
        "client_id": "sandbox-client",
        "client_secret": "sandbox-secret",
        "grant_type": "client_credentials",
    }
    assert "ocp-apim-subscription-key" not in token["headers"]
    # The look-up carries the key and the token, and the CPF punctuated.
    assert lookup["path"] == V5_LOOKUP
    assert lookup["headers"]["ocp-apim-subscription-key"] == "sandbox-subscription"
    assert lookup["headers"]["authorization"] == "Bearer eyFAKE.other"


def test_source_token_request_sends_scope_and_key_and_digits_in_the_url(
    canned: CannedKroton, client_for: Callable[[KrotonApiFormat], KrotonClient]
) -> None:
    canned.answer("POST", "/oauth2/token", 200, "source/token.json")
    canned.answer("GET", SOURCE_LOOKUP, 200, "source/cpf_inscribed.json")
    read = client_for(SOURCE).inscriptions_by_cpf("123.456.789-09")
    assert [i.inscription_id for i in read.inscriptions] == ["20000001", "20000002"]
    token, lookup = canned.requests
    assert token["form"]["scope"] == "sandbox-subscription"
    assert token["headers"]["ocp-apim-subscription-key"] == "sandbox-subscription"
    assert lookup["path"] == SOURCE_LOOKUP


def test_v5_student_is_read_from_matricula_ra_without_an_enrolment_lookup(
    canned: CannedKroton, client_for: Callable[[KrotonApiFormat], KrotonClient]
) -> None:
    canned.answer("POST", "/oauth2/token", 200, "v5/token.json")
    canned.answer("GET", V5_LOOKUP, 200, "v5/cpf_student_and_old_disqualified.json")
    read = client_for(V5).inscriptions_by_cpf(CPF)
    assert read.best().status is Status.ENROLLED and read.says_enrolment
    # Kroton's answer kept exactly as received, personal data and all (for follow_ups).
    assert read.raw == json.loads(
        (ANSWERS / "v5/cpf_student_and_old_disqualified.json").read_text()
    )


def test_v5_registration_posts_to_the_cqrs_path_and_needs_no_success_field(
    canned: CannedKroton, client_for: Callable[[KrotonApiFormat], KrotonClient]
) -> None:
    canned.answer("POST", "/oauth2/token", 200, "v5/token.json")
    canned.answer(
        "POST", "/ms/inscricaocqrs/captacao/v5/inscricao", 201, "v5/register_created.json"
    )
    answer = client_for(V5).register(PAYLOAD)
    assert answer.accepted and answer.inscription.inscription_id == "777002"
    assert answer.status is Status.AWAITING_REGISTER
    assert canned.requests[-1]["path"] == "/ms/inscricaocqrs/captacao/v5/inscricao"


def test_an_accepted_registration_with_no_body_is_pending_not_unknown(
    canned: CannedKroton, client_for: Callable[[KrotonApiFormat], KrotonClient]
) -> None:
    canned.answer("POST", "/oauth2/token", 200, "v5/token.json")
    canned.answer("POST", "/ms/inscricaocqrs/captacao/v5/inscricao", 201, None)
    answer = client_for(V5).register(PAYLOAD)
    assert answer.accepted and answer.inscription.inscription_id is None
    assert answer.status is Status.AWAITING_REGISTER


@pytest.mark.parametrize(
    ("status", "name", "message"),
    [
        (422, "v5/register_invalid.json", "Oferta inválida"),
        (409, "v5/register_conflict.json", "Candidato já inscrito para esta oferta"),
    ],
)
def test_v5_refusals_quote_krotons_message_or_data(
    canned: CannedKroton,
    client_for: Callable[[KrotonApiFormat], KrotonClient],
    status: int,
    name: str,
    message: str,
) -> None:
    canned.answer("POST", "/oauth2/token", 200, "v5/token.json")
    canned.answer("POST", "/ms/inscricaocqrs/captacao/v5/inscricao", status, name)
    with pytest.raises(KrotonRejected) as caught:
        client_for(V5).register(PAYLOAD)
    assert caught.value.status_code == status and caught.value.message == message


def test_source_refusal_in_a_200_answer_is_a_rejection(
    canned: CannedKroton, client_for: Callable[[KrotonApiFormat], KrotonClient]
) -> None:
    canned.answer("POST", "/oauth2/token", 200, "source/token.json")
    canned.answer(
        "POST", "/ms/inscricao/v4/captacao/inscricao", 200, "source/register_refused.json"
    )
    with pytest.raises(KrotonRejected) as caught:
        client_for(SOURCE).register(PAYLOAD)
    assert caught.value.errors == ["dadosPessoais.sexo: deve ser M ou F"]


def test_inscription_by_id_path_in_each_dialect(
    canned: CannedKroton, client_for: Callable[[KrotonApiFormat], KrotonClient]
) -> None:
    canned.answer("POST", "/oauth2/token", 200, "v5/token.json")
    canned.answer("GET", "/ms/inscricaocqrs/captacao/v5/inscricao/555001", 200, "v5/by_id.json")
    canned.answer(
        "GET",
        "/ms/inscricao/v4/captacao/inscricao/20000003/sistema/COLABORAR",
        200,
        "source/status_error.json",
    )
    v5 = client_for(V5).inscription_status("555001", "OLIMPO")
    source = client_for(SOURCE).inscription_status("20000003", "COLABORAR")
    assert v5.best().status is Status.ENROLLED
    assert source.best().status is Status.FAILED


def test_a_404_lookup_is_none_only_when_configured(
    canned: CannedKroton, client_for: Callable[[KrotonApiFormat], KrotonClient]
) -> None:
    canned.answer("POST", "/oauth2/token", 200, "v5/token.json")
    with pytest.raises(NotFound):
        client_for(V5).inscriptions_by_cpf(CPF)
    lenient = client_for(replace(V5, lookup_404_is_empty=True))
    assert lenient.inscriptions_by_cpf(CPF).inscriptions == ()


def test_paths_are_overridable_one_by_one(
    canned: CannedKroton, client_for: Callable[[KrotonApiFormat], KrotonClient]
) -> None:
    canned.answer("POST", "/auth/token", 200, "v5/token.json")
    canned.answer("GET", "/custom/cpf/123.456.789-09", 200, "v5/cpf_none.json")
    fmt = replace(V5, token_path="/auth/token", inscriptions_by_cpf_path="/custom/cpf/{cpf}")
    assert client_for(fmt).inscriptions_by_cpf(CPF).inscriptions == ()


def test_an_answer_of_neither_dialect_is_malformed(
    canned: CannedKroton, client_for: Callable[[KrotonApiFormat], KrotonClient]
) -> None:
    canned.answer("POST", "/oauth2/token", 200, "v5/token.json")
    canned.answer("GET", V5_LOOKUP, 200, "v5/token.json")  # an object without inscriptions
    with pytest.raises(MalformedResponse):
        client_for(V5).inscriptions_by_cpf(CPF)
