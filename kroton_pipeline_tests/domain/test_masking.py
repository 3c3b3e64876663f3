"""Masking never leaves personal data readable (property-style over Faker data)."""

from __future__ import annotations

import logging
import re

import pytest
from faker import Faker

from kroton_pipeline.domain.leads import (
    VALID_DDDS,
    PersonalDataFilter,
    mask_birthday,
    mask_cpf,
    mask_email,
    mask_name,
    mask_payload,
    mask_phone,
    scrub,
    split_phone,
)


def _digits(text: str) -> str:
    return re.sub(r"[^0-9]", "", text)


@pytest.fixture(scope="module")
def fake() -> Faker:
    faker = Faker("pt_BR")
    faker.seed_instance(17)
    return faker


def test_mask_cpf_keeps_only_the_middle_six_digits() -> None:
    assert mask_cpf("12345678909") == "***.456.789-**"
    assert mask_cpf("123.456.789-09") == "***.456.789-**"
    assert mask_cpf("123") == "***.***.***-**"


def test_mask_email_keeps_first_letter_and_domain() -> None:
    assert mask_email("joao.silva@gmail.com") == "j***@gmail.com"
    assert mask_email("not-an-email") == "***"


def test_mask_phone_keeps_ddd_and_last_two_digits() -> None:
    assert mask_phone("11", "975405666") == "(11) *****-**66"
    assert mask_phone("11", "32345678") == "(11) ****-**78"
    assert mask_phone(None, "12") == "(**) ****-****"


def test_mask_birthday_hides_everything() -> None:
    assert mask_birthday("1989-08-31") == "****-**-**"


def test_masked_cpfs_never_contain_the_original(fake: Faker) -> None:
    for _ in range(2000):
        cpf = fake.cpf()
        digits = _digits(cpf)
        assert _digits(mask_cpf(cpf)) == _digits(mask_cpf(digits)) == digits[3:9]
        scrubbed = scrub(f"cpf {cpf} e {digits}.")
        assert cpf not in scrubbed and digits not in scrubbed
        assert _digits(scrubbed) == digits[3:9] * 2


def test_masked_emails_never_contain_the_local_part(fake: Faker) -> None:
    for _ in range(2000):
        email = fake.email()
        local = email.split("@")[0]
        for masked in (mask_email(email), scrub(f"Contato: {email}, ok")):
            assert email not in masked
            if len(local) > 1:
                assert local not in masked


def test_masked_phones_keep_at_most_ddd_and_two_digits(fake: Faker) -> None:
    for _ in range(2000):
        raw = fake.cellphone_number() if fake.boolean() else fake.phone_number()
        ddd, number = split_phone("", raw)
        if ddd not in VALID_DDDS:  # 0300/0500/0800 service numbers belong to companies
            continue
        masked = mask_phone(ddd, number)
        assert number not in masked and len(_digits(masked)) <= 4
        scrubbed = scrub(f"tel {raw} / {ddd}{number} / ({ddd}) {number[:-4]}-{number[-4:]}")
        assert number not in _digits(scrubbed)
        assert number[-4:] not in scrubbed


def test_scrub_masks_dates_in_iso_and_brazilian_format(fake: Faker) -> None:
    for _ in range(500):
        born = fake.date_of_birth()
        text = scrub(f"nasc {born.isoformat()} ou {born:%d/%m/%Y}")
        assert text == "nasc ****-**-** ou **/**/****"


def test_scrub_can_leave_operational_dates_readable() -> None:
    text = "partition 2025-01-15: lead 378.457.608-70"
    assert scrub(text, dates=False) == "partition 2025-01-15: lead ***.457.608-**"


def test_scrub_leaves_ordinary_text_alone() -> None:
    text = "Imported 1234 leads in 12.5 s (run 3f2a9c, status 200, 123456789 bytes)"
    assert scrub(text) == text


def test_personal_data_filter_scrubs_message_args_and_exception(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("kroton_pipeline_tests.masking")
    logger.addFilter(PersonalDataFilter())
    try:
        with caplog.at_level(logging.INFO, logger=logger.name):
            logger.info("lead %s <%s> tel %s", "378.457.608-70", "ana@x.com", "(11) 97540-5666")
            try:
                raise ValueError("bad cpf 37845760870")
            except ValueError:
                logger.exception("failed for ana@x.com")
    finally:
        logger.filters.clear()
    text = caplog.text
    for secret in ("378.457.608-70", "37845760870", "ana@x.com", "97540-5666"):
        assert secret not in text
    assert "***.457.608-**" in text and "a***@x.com" in text and "(11) *****-**66" in text


def test_mask_payload_hides_every_personal_field() -> None:
    from kroton_pipeline.domain.kroton_api import build_enrolment_payload
    from kroton_pipeline.settings import BusinessRules

    lead = {
        "user_name": "Mauricio Matsoui", "cpf": "37845760870", "gender": "M",
        "birthday": "1989-08-31", "email": "mauricio.matsoui@redealumni.com",
        "area_code": "11", "phone_number": "975405666", "cep": "12243740",
        "street": "Rua Pedro de Toledo", "number": "48", "city": "São José dos Campos",
        "uf": "SP",
    }  # fmt: skip
    payload = build_enrolment_payload(lead, "offer-1", "offer-2", BusinessRules())
    masked = mask_payload(payload)
    text = repr(masked)
    for secret in ("378.457.608-70", "1989-08-31", "mauricio.matsoui", "975405666",
                   "12243-740", "Pedro de Toledo", "Matsoui", "20000000"):  # fmt: skip
        assert secret not in text
    assert masked["inscricao"] == payload["inscricao"]
    assert masked["dadosPessoais"]["endereco"]["municipio"] == "São José dos Campos"
    assert payload["dadosPessoais"]["cpf"] == "378.457.608-70"  # the original is untouched
    assert mask_name("Ana Maria") == "A*** M***"
