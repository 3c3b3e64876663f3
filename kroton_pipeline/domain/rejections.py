"""Why an exported row did not become a subscription, and what was wrong with an address.

The codes are stored in ``lead_rejections.reason`` and shown to operators; changing a value
is a data migration, adding one is not.
"""

from __future__ import annotations

from enum import StrEnum


class RejectionReason(StrEnum):
    """Reason code of a lead that could not be imported (``lead_rejections.reason``)."""

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


DESCRIPTIONS: dict[RejectionReason, str] = {
    RejectionReason.INVALID_CPF: "CPF is empty, does not have 11 digits or its check digits "
    "are wrong.",
    RejectionReason.DUPLICATE_CPF_IN_FILE: "The same CPF appears earlier in the same export; "
    "only its first valid row is imported.",
    RejectionReason.CPF_ALREADY_IMPORTED: "The CPF already belongs to a subscription imported "
    "on another date.",
    RejectionReason.ERASED_ON_REQUEST: "The person asked for their data to be erased (LGPD); "
    "nothing of the row is kept.",
    RejectionReason.MISSING_NAME: "The name is empty or has no letters.",
    RejectionReason.INVALID_BIRTHDAY: "The birth date is empty, not YYYY-MM-DD / DD/MM/YYYY, "
    "or not a real calendar date.",
    RejectionReason.BIRTHDAY_BEFORE_1900: "The birth date is before 1900-01-01.",
    RejectionReason.BIRTHDAY_IN_FUTURE: "The birth date is after the import date.",
    RejectionReason.AGE_OUT_OF_RANGE: "The age at the import date is outside the configured "
    "range for higher education.",
    RejectionReason.INVALID_EMAIL: "The e-mail is empty or not a valid address.",
    RejectionReason.INVALID_PHONE: "The phone is empty or not a valid Brazilian number "
    "(DDD + 8 or 9 digits).",
    RejectionReason.MISSING_COURSE_DATA: "Course name, course type or campus is empty.",
    RejectionReason.INVALID_UNIT_ID: "The unit id is empty or not a whole number.",
    RejectionReason.INVALID_PRICE: "The monthly price is empty or not a positive number.",
    RejectionReason.INVALID_CAPTURE_PERIOD: "The capture period is empty or not a whole number.",
    RejectionReason.INVALID_MODALITY: "The modality is not one the catalog knows.",
    RejectionReason.INVALID_SYSTEM: "The system is not one of Kroton's: COLABORAR, OLIMPO, "
    "SAP, ATHENAS.",
}


class AddressIssue(StrEnum):
    """First problem found in an address that was replaced by the default address."""

    MISSING_CEP = "missing_cep"
    INVALID_CEP = "invalid_cep"
    MISSING_STREET = "missing_street"
    MISSING_NUMBER = "missing_number"
    MISSING_CITY = "missing_city"
    INVALID_UF = "invalid_uf"
