"""E-mail rule, checked against email-validator (the reference)."""

from __future__ import annotations

import pandas as pd
from email_validator import EmailNotValidError, validate_email
from faker import Faker

from kroton_pipeline.domain.leads import email_valid_column, is_valid_email

TRICKY = [
    "a@b.co", "a@b.c", "A.B@GMAIL.COM", "first.last+tag@sub.domain.com.br", "o'neil@x.com",
    "x!#$%&'*+/=?^_`{|}~-@x.com", "a..b@x.com", ".a@x.com", "a.@x.com", "a@x..com",
    "a@-x.com", "a@x-.com", "a@x.-com", "a@x.com-", "a@x.com.", "a@.x.com", "a@x", "a@123.45",
    "a@x.c0m", "a@x.9a", "a@ab--c.com", "a@xn--bcher-kva.com", "a@xn--zz.com", "a@x.test",
    "a@x.localhost", "a@localhost", "a@x.local", "a@x.onion", "a@x.invalid", "a@x.arpa",
    "a@example.com", "a@test.com", "a@x.testing", "a b@x.com", "a@x .com", "a@@x.com",
    "a@b@x.com", "@x.com", "a@", "a", "", '"a"@x.com', '"a b"@x.com', "Ana <a@x.com>",
    "a@[127.0.0.1]", "joão@gmail.com", "a@ção.com.br", "a@gmaíl.com", "a@x.com\n",
    "a\u200b@x.com", "a@x_y.com", "a@x.co_m", "a@" + "x" * 63 + ".com", "a@" + "x" * 64 + ".com",
    "a" * 64 + "@x.com", "a" * 65 + "@x.com", "a" * 240 + "@example.com",
    "a" * 244 + "@example.com", "a@" + ".".join(["abcdefghi"] * 25) + ".com",
    "a@" + ".".join(["abcdefghi"] * 26) + ".com", "a@x.XN--P1AI", "a@x.com,b@y.com",
    "mauricio.matsoui@redealumni.com", "a@ab-cd.com", "a@a-b-c.com", "a@1.com", "1@1.co",
    "a/b@x.com", "a@x.com;", "a;b@x.com", "a(b)@x.com", "a@x.c-d.e", "a@uol.com.br",
]  # fmt: skip


def _reference(value: str) -> bool:
    """email-validator itself, on the stripped value, without DNS."""
    try:
        validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def _faker_emails() -> list[str]:
    fake = Faker("pt_BR")
    fake.seed_instance(5)
    emails = []
    for _ in range(1500):
        emails += [fake.email(), fake.free_email(), fake.company_email(), fake.ascii_email()]
    return emails


def test_email_rule_agrees_with_email_validator_on_every_test_row() -> None:
    rows = _faker_emails() + TRICKY + [e.upper() for e in TRICKY]
    valid = email_valid_column(pd.Series(rows, dtype="str"))
    expected = [_reference(e) for e in rows]
    disagreements = [e for e, v, x in zip(rows, valid, expected, strict=True) if v != x]
    assert disagreements == []


def test_empty_email_is_invalid() -> None:
    assert list(email_valid_column(pd.Series(["", None], dtype="str"))) == [False, False]


def test_scalar_email_check_is_email_validator() -> None:
    assert is_valid_email(" a@x.com ")
    assert not is_valid_email("a@x")
    assert not is_valid_email(None)
