"""Keyed digests of erased people's CPFs (LGPD): remembered without keeping the CPF.

A CPF has only 10^11 values, so a plain hash could be reversed by trying them all; the
digest is an HMAC keyed by ``KROTON_ERASURE_KEY``, a deployment secret kept outside the
database. Without the key the database alone does not say who was erased.
"""

from __future__ import annotations

import hashlib
import hmac
import os

# Used only when KROTON_ERASURE_KEY is unset (the sandbox, tests): set the variable in
# staging and production.
DEFAULT_KEY = "kroton-pipeline-erasure"


def erasure_key() -> bytes:
    return (os.environ.get("KROTON_ERASURE_KEY") or DEFAULT_KEY).encode()


def cpf_digest(cpf: str, key: bytes | None = None) -> str:
    """The keyed digest of an 11-digit CPF."""
    return hmac.new(key or erasure_key(), cpf.encode(), hashlib.sha256).hexdigest()
