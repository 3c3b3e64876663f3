"""Keyed digests of erased people's CPFs (LGPD): remembered without keeping the CPF.

A CPF has only 10^11 values, so a plain hash could be reversed by trying them all; the
digest is an HMAC keyed by ``KROTON_ERASURE_KEY``, a deployment secret kept outside the
database (``settings.erasure_keys``). Without the key the database alone does not say who
was erased. When the key is rotated, the old keys stay listed (``KROTON_ERASURE_OLD_KEYS``)
so digests made with them still match; new erasures use the current key.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence


def cpf_digest(cpf: str, key: bytes) -> str:
    """The keyed digest of an 11-digit CPF."""
    return hmac.new(key, cpf.encode(), hashlib.sha256).hexdigest()


def erased_among(cpfs: Iterable[str], digests: set[str], keys: Sequence[bytes]) -> set[str]:
    """The CPFs whose digest under any of ``keys`` (current first, then older) is known."""
    return {cpf for cpf in cpfs if any(cpf_digest(cpf, key) in digests for key in keys)}
