"""Build the sandbox's bundled catalog of offers (``catalog.json``), deterministically.

Run ``python -m kroton_pipeline.sandbox.build_catalog`` to regenerate the file; the output
only changes when this script changes, so the committed JSON stays reviewable.

The catalog is shaped so that a realistic course search (same course, unit, type, price,
modality and capture period) usually finds two or more offers (the same course offered in
several shifts or entry campaigns) while a minority of searches find fewer: single-shift
courses, inactive offers and offers whose enrolment window has already closed.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

CATALOG_PATH = Path(__file__).with_name("catalog.json")
SEED = 2026

# (idUnidadeOrigem, nmUnidade, nmCampus, cidade, uf, sistema, modalities)
UNITS: list[tuple[int, str, str, str, str, str, tuple[str, ...]]] = [
    (
        446,
        "Anhanguera São José dos Campos",
        "Campus Centro",
        "São José dos Campos",
        "SP",
        "OLIMPO",
        ("Presencial",),
    ),
    (1187, "Anhanguera Campinas", "Campus Taquaral", "Campinas", "SP", "OLIMPO", ("Presencial",)),
    (
        2051,
        "Pitágoras Belo Horizonte",
        "Campus Raja Gabaglia",
        "Belo Horizonte",
        "MG",
        "OLIMPO",
        ("Presencial",),
    ),
    (3310, "Unic Cuiabá", "Campus Beira Rio", "Cuiabá", "MT", "OLIMPO", ("Presencial",)),
    (4122, "Unopar Londrina", "Campus Piza", "Londrina", "PR", "OLIMPO", ("Presencial",)),
    (5274, "Fama Macapá", "Campus Macapá", "Macapá", "AP", "OLIMPO", ("Presencial",)),
    (
        11342,
        "Polo EAD São Paulo Lapa",
        "Polo Lapa",
        "São Paulo",
        "SP",
        "COLABORAR",
        ("EAD", "Semipresencial"),
    ),
    (
        11587,
        "Polo EAD Rio de Janeiro Centro",
        "Polo Centro",
        "Rio de Janeiro",
        "RJ",
        "COLABORAR",
        ("EAD",),
    ),
    (
        12003,
        "Polo EAD Salvador Pituba",
        "Polo Pituba",
        "Salvador",
        "BA",
        "COLABORAR",
        ("EAD", "Semipresencial"),
    ),
    (12448, "Polo EAD Recife Boa Vista", "Polo Boa Vista", "Recife", "PE", "COLABORAR", ("EAD",)),
    (
        12790,
        "Polo EAD Porto Alegre Centro",
        "Polo Centro Histórico",
        "Porto Alegre",
        "RS",
        "COLABORAR",
        ("EAD",),
    ),
]

# (dsCurso, dsTipoCurso, base monthly price in reais)
COURSES: list[tuple[str, str, float]] = [
    ("Administração", "Bacharelado", 389.0),
    ("Direito", "Bacharelado", 899.0),
    ("Enfermagem", "Bacharelado", 749.0),
    ("Engenharia Civil", "Bacharelado", 829.0),
    ("Engenharia de Software", "Bacharelado", 459.0),
    ("Psicologia", "Bacharelado", 969.0),
    ("Ciências Contábeis", "Bacharelado", 379.0),
    ("Educação Física", "Bacharelado", 419.0),
    ("Educação Física", "Licenciatura", 299.0),
    ("Pedagogia", "Licenciatura", 259.0),
    ("Letras - Português e Inglês", "Licenciatura", 249.0),
    ("História", "Licenciatura", 239.0),
    ("Matemática", "Licenciatura", 249.0),
    ("Análise e Desenvolvimento de Sistemas", "Tecnólogo", 329.0),
    ("Gestão de Recursos Humanos", "Tecnólogo", 279.0),
    ("Marketing", "Tecnólogo", 289.0),
    ("Logística", "Tecnólogo", 269.0),
    ("Gestão Financeira", "Tecnólogo", 279.0),
    ("Gastronomia", "Tecnólogo", 499.0),
    ("Estética e Cosmética", "Tecnólogo", 459.0),
    ("Nutrição", "Bacharelado", 689.0),
    ("Fisioterapia", "Bacharelado", 729.0),
    ("Serviço Social", "Bacharelado", 319.0),
]

PRESENCIAL_SHIFTS = ("Manhã", "Tarde", "Noite")
SEMIPRESENCIAL_SHIFTS = ("Noite", "Manhã")
FUTURE_YEARS = (2027, 2028, 2029, 2030)


def _offer_id(rng: random.Random, unit_id: int, used: set[str]) -> str:
    """Kroton-shaped offer id, e.g. ``1093731-446-52505-580-872433-11342-100``."""
    while True:
        parts = [
            rng.randint(1_000_000, 1_999_999),
            unit_id,
            rng.randint(10_000, 99_999),
            rng.randint(100, 999),
            rng.randint(100_000, 999_999),
            rng.choice((11342, 11587, 12003, 20117)),
            rng.choice((100, 200, 300)),
        ]
        offer_id = "-".join(str(p) for p in parts)
        if offer_id not in used:
            used.add(offer_id)
            return offer_id


def _future_date(rng: random.Random) -> str:
    return f"{rng.choice(FUTURE_YEARS)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _past_date(rng: random.Random) -> str:
    return f"{rng.choice((2025, 2026))}-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}"


def _shifts(modality: str, rng: random.Random, count: int) -> list[str]:
    if modality == "EAD":
        # Distance courses have one shift; several offers differ by entry campaign.
        return ["Virtual"] * count
    pool = PRESENCIAL_SHIFTS if modality == "Presencial" else SEMIPRESENCIAL_SHIFTS
    return rng.sample(pool, min(count, len(pool)))


def build_catalog(seed: int = SEED) -> list[dict[str, Any]]:
    """Return the list of offers (catalog ``_source`` documents) for ``seed``."""
    rng = random.Random(seed)
    used: set[str] = set()
    offers: list[dict[str, Any]] = []
    for unit_id, unit_name, campus, city, uf, sistema, modalities in UNITS:
        for modality in modalities:
            n_courses = 13 if modality != "Semipresencial" else 4
            for course, course_type, base_price in rng.sample(COURSES, n_courses):
                period = rng.choice((20271, 20271, 20271, 20272))
                factor = 0.55 if modality == "EAD" else 0.8 if modality == "Semipresencial" else 1.0
                cents = rng.choice((0.0, 0.9, 0.5, 0.99, 0.37))
                price = round(base_price * factor + rng.randint(-20, 20) + cents, 2)
                # Fate of the search: most find 2-3 offers, some fewer usable ones.
                fate = rng.random()
                count = 1 if fate < 0.10 else rng.choice((2, 2, 3))
                if fate >= 0.10 and count == 3 and modality == "Semipresencial":
                    count = 2
                for index, shift in enumerate(_shifts(modality, rng, count)):
                    active, closing = True, _future_date(rng)
                    if 0.10 <= fate < 0.17 and index == 0:
                        active = False
                    elif (0.17 <= fate < 0.23 and index == 0) or 0.23 <= fate < 0.26:
                        closing = _past_date(rng)
                    offers.append(
                        {
                            "id": _offer_id(rng, unit_id, used),
                            "dsCurso": course,
                            "dsTipoCurso": course_type,
                            "dsModalidade": modality,
                            "vlMensalidadeDe": price,
                            "dtTerminoInscricao": closing,
                            "ativa": active,
                            "periodoCaptacao": period,
                            "sistema": sistema,
                            "idUnidadeOrigem": unit_id,
                            "nmUnidade": unit_name,
                            "dsTurno": shift,
                            "nmCampus": campus,
                            "cidade": city,
                            "uf": uf,
                        }
                    )
    return offers


def write_catalog(path: Path = CATALOG_PATH, seed: int = SEED) -> int:
    """Write the catalog as compact JSON (one offer per line) and return the offer count."""
    offers = build_catalog(seed)
    lines = ",\n".join(json.dumps(o, ensure_ascii=False, separators=(",", ":")) for o in offers)
    path.write_text("[\n" + lines + "\n]\n", encoding="utf-8")
    return len(offers)


if __name__ == "__main__":
    print(f"wrote {write_catalog()} offers to {CATALOG_PATH}")
