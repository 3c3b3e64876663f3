"""Why an exported row did not become a subscription, and what was wrong with an address.

The codes are stored in ``lead_rejections.reason`` and shown to operators; changing a value
is a data migration, adding one is not.
"""

from __future__ import annotations

from enum import StrEnum


class RejectionReason(StrEnum):
    """Reason code of a lead that could not be imported (``lead_rejections.reason``)."""

    invalid_cpf = "invalid_cpf"
    duplicate_cpf_in_file = "duplicate_cpf_in_file"
    cpf_already_imported = "cpf_already_imported"
    missing_name = "missing_name"
    invalid_birthday = "invalid_birthday"
    birthday_before_1900 = "birthday_before_1900"
    birthday_in_future = "birthday_in_future"
    age_out_of_range = "age_out_of_range"
    invalid_email = "invalid_email"
    invalid_phone = "invalid_phone"
    missing_course_data = "missing_course_data"
    invalid_unit_id = "invalid_unit_id"
    invalid_price = "invalid_price"
    invalid_capture_period = "invalid_capture_period"
    invalid_modality = "invalid_modality"
    invalid_system = "invalid_system"


DESCRIPTIONS: dict[RejectionReason, str] = {
    RejectionReason.invalid_cpf: "CPF is empty, does not have 11 digits or its check digits "
    "are wrong.",
    RejectionReason.duplicate_cpf_in_file: "The same CPF appears earlier in the same export; "
    "only its first valid row is imported.",
    RejectionReason.cpf_already_imported: "The CPF already belongs to a subscription imported "
    "on another date.",
    RejectionReason.missing_name: "The name is empty or has no letters.",
    RejectionReason.invalid_birthday: "The birth date is empty, not YYYY-MM-DD / DD/MM/YYYY, "
    "or not a real calendar date.",
    RejectionReason.birthday_before_1900: "The birth date is before 1900-01-01.",
    RejectionReason.birthday_in_future: "The birth date is after the import date.",
    RejectionReason.age_out_of_range: "The age at the import date is outside the configured "
    "range for higher education.",
    RejectionReason.invalid_email: "The e-mail is empty or not a valid address.",
    RejectionReason.invalid_phone: "The phone is empty or not a valid Brazilian number "
    "(DDD + 8 or 9 digits).",
    RejectionReason.missing_course_data: "Course name, course type or campus is empty.",
    RejectionReason.invalid_unit_id: "The unit id is empty or not a whole number.",
    RejectionReason.invalid_price: "The monthly price is empty or not a positive number.",
    RejectionReason.invalid_capture_period: "The capture period is empty or not a whole number.",
    RejectionReason.invalid_modality: "The modality is not one the catalog knows.",
    RejectionReason.invalid_system: "The system is neither OLIMPO nor COLABORAR.",
}


class AddressIssue(StrEnum):
    """First problem found in an address that was replaced by the default address."""

    missing_cep = "missing_cep"
    invalid_cep = "invalid_cep"
    missing_street = "missing_street"
    missing_number = "missing_number"
    missing_city = "missing_city"
    invalid_uf = "invalid_uf"
