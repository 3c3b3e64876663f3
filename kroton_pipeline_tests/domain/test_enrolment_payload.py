"""The POST payload has exactly the source document's EnrollmentPayload shape."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd
import pytest

from kroton_pipeline.domain.kroton_api import PayloadError, build_enrolment_payload
from kroton_pipeline.settings import BusinessRules

LEAD: dict[str, Any] = {
    "user_name": "Mauricio Matsoui",
    "cpf": "37845760870",
    "gender": "M",
    "birthday": date(1989, 8, 31),
    "email": "mauricio.matsoui@redealumni.com",
    "area_code": "11",
    "phone_number": "975405666",
    "cep": "12243740",
    "street": "Rua Pedro de Toledo",
    "number": "48",
    "city": "São José dos Campos",
    "uf": "SP",
}
OFFER_1 = "1093731-446-52505-580-872433-11342-100"
OFFER_2 = "1093731-446-52505-580-872433-11342-200"


def test_payload_has_the_source_document_shape() -> None:
    payload = build_enrolment_payload(LEAD, OFFER_1, OFFER_2, BusinessRules())
    assert payload == {
        "dadosPessoais": {
            "celular": "11975405666",
            "cpf": "378.457.608-70",
            "dataNascimento": "1989-08-31",
            "email": "mauricio.matsoui@redealumni.com",
            "endereco": {
                "cep": "12243-740",
                "logradouro": "Rua Pedro de Toledo",
                "municipio": "São José dos Campos",
                "numero": "48",
                "uf": "SP",
            },
            "necessidadesEspeciais": [],
            "nome": "Mauricio Matsoui",
            "rg": "20000000",
            "sexo": "M",
        },
        "inscricao": {
            "canalVendas": {"id": 85},
            "idAfiliado": "DL00QUERO12991",
            "idTipoProva": 1,
            "ofertas": {"primeiraOpcao": {"id": OFFER_1}, "segundaOpcao": {"id": OFFER_2}},
        },
    }


def test_second_option_is_omitted_when_there_is_none() -> None:
    payload = build_enrolment_payload(LEAD, OFFER_1, None, BusinessRules())
    assert payload["inscricao"]["ofertas"] == {"primeiraOpcao": {"id": OFFER_1}}


def test_payload_constants_come_from_business_rules() -> None:
    rules = BusinessRules(
        sales_channel_id=7, affiliate_id="AF1", exam_type_id=3, rg_placeholder="9"
    )
    payload = build_enrolment_payload(LEAD, OFFER_1, None, rules)
    assert payload["inscricao"]["canalVendas"] == {"id": 7}
    assert payload["inscricao"]["idAfiliado"] == "AF1"
    assert payload["inscricao"]["idTipoProva"] == 3
    assert payload["dadosPessoais"]["rg"] == "9"


@pytest.mark.parametrize(
    "birthday",
    [date(1989, 8, 31), datetime(1989, 8, 31, 0, 0), pd.Timestamp("1989-08-31"), "1989-08-31",
     pd.Series(["1989-08-31"]).astype("datetime64[ns]").to_numpy()[0]],
)  # fmt: skip
def test_birthday_is_sent_as_iso_date_whatever_its_type(birthday: object) -> None:
    payload = build_enrolment_payload(
        {**LEAD, "birthday": birthday}, OFFER_1, None, BusinessRules()
    )
    assert payload["dadosPessoais"]["dataNascimento"] == "1989-08-31"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"gender": "NI"}, "dadosPessoais.sexo"),
        ({"gender": None}, "dadosPessoais.sexo"),
        ({"cpf": "37845760871"}, "dadosPessoais.cpf"),
        ({"phone_number": "1234"}, "dadosPessoais.celular"),
        ({"cep": "1224"}, "dadosPessoais.endereco.cep"),
        ({"birthday": None}, "dadosPessoais.dataNascimento"),
        ({"birthday": "31/08/1989"}, "dadosPessoais.dataNascimento"),
        ({"email": ""}, "dadosPessoais.email"),
        ({"user_name": None}, "dadosPessoais.nome"),
        ({"uf": "S"}, "dadosPessoais.endereco.uf"),
    ],
)
def test_invalid_lead_raises_payload_error_naming_the_field_not_the_value(
    overrides: dict[str, Any], field: str
) -> None:
    lead = {**LEAD, **overrides}
    with pytest.raises(PayloadError) as caught:
        build_enrolment_payload(lead, OFFER_1, None, BusinessRules())
    assert caught.value.field == field
    assert str(caught.value).startswith(field)
    for value in overrides.values():
        if value:
            assert str(value) not in str(caught.value)


def test_lowercase_gender_is_accepted() -> None:
    payload = build_enrolment_payload({**LEAD, "gender": "f"}, OFFER_1, None, BusinessRules())
    assert payload["dadosPessoais"]["sexo"] == "F"
