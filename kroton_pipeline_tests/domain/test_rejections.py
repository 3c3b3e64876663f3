"""Rejection reason codes are the documented set (their meanings: test_reason_catalogue)."""

from __future__ import annotations

from kroton_pipeline.domain.rejections import AddressIssue, RejectionReason


def test_reason_codes_are_stable_strings() -> None:
    assert [r.value for r in RejectionReason] == [
        "wrong_field_count",
        "invalid_cpf", "duplicate_cpf_in_file", "cpf_already_imported", "erased_on_request",
        "missing_name", "invalid_birthday", "birthday_before_1900", "birthday_in_future",
        "age_out_of_range", "invalid_email", "invalid_phone", "missing_course_data",
        "invalid_unit_id", "invalid_price", "invalid_capture_period", "invalid_modality",
        "invalid_system", "value_too_long", "value_out_of_range",
    ]  # fmt: skip
    assert [i.value for i in AddressIssue] == [
        "missing_cep", "invalid_cep", "missing_street", "missing_number", "missing_city",
        "invalid_uf",
    ]  # fmt: skip
