"""Why an exported row did not become a subscription, and what was wrong with an address.

The codes are stored in ``lead_rejections.reason`` and shown to operators; changing a value
is a data migration, adding one is not (give it an entry in ``domain.reason_catalogue``).
"""

from __future__ import annotations

from enum import StrEnum


class RejectionReason(StrEnum):
    """Reason code of a lead that could not be imported (``lead_rejections.reason``)."""

    WRONG_FIELD_COUNT = "wrong_field_count"
    INVALID_CPF = "invalid_cpf"
    DUPLICATE_CPF_IN_FILE = "duplicate_cpf_in_file"
    CPF_ALREADY_IMPORTED = "cpf_already_imported"
    ERASED_ON_REQUEST = "erased_on_request"
    MISSING_NAME = "missing_name"
    INVALID_BIRTHDAY = "invalid_birthday"
    BIRTHDAY_BEFORE_1900 = "birthday_before_1900"
    BIRTHDAY_IN_FUTURE = "birthday_in_future"
    AGE_OUT_OF_RANGE = "age_out_of_range"
    INVALID_EMAIL = "invalid_email"
    INVALID_PHONE = "invalid_phone"
    MISSING_COURSE_DATA = "missing_course_data"
    INVALID_UNIT_ID = "invalid_unit_id"
    INVALID_PRICE = "invalid_price"
    INVALID_CAPTURE_PERIOD = "invalid_capture_period"
    INVALID_MODALITY = "invalid_modality"
    INVALID_SYSTEM = "invalid_system"
    VALUE_TOO_LONG = "value_too_long"
    VALUE_OUT_OF_RANGE = "value_out_of_range"


class AddressIssue(StrEnum):
    """First problem found in an address that was replaced by the default address."""

    MISSING_CEP = "missing_cep"
    INVALID_CEP = "invalid_cep"
    MISSING_STREET = "missing_street"
    MISSING_NUMBER = "missing_number"
    MISSING_CITY = "missing_city"
    INVALID_UF = "invalid_uf"
