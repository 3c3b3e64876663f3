"""``python -m kroton_pipeline.lead [ID]``: one lead's whole story, for support.

Prints, in order, every export row that named the person, each attempt with its status
changes, course options and Kroton's answers, the next planned look-up and what happens
next (``kroton_pipeline.support``). Reads the database named by ``KROTON_DATABASE_URL``;
never calls Kroton, never writes, never touches Dagster.

The person is named by subscription id, or by CPF typed at the prompt (or piped on stdin)
when ``ID`` is left out: a CPF on the command line stays in the shell history. Personal data
is masked unless ``--show-personal-data`` is given, which is logged (the subscription ids
shown and the operator's login, never the data).
"""

from __future__ import annotations

import argparse
import getpass
import logging
import re
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import TextIO

from sqlalchemy import Engine

from kroton_pipeline.domain.erased import ERASED_CPF_PREFIX
from kroton_pipeline.domain.leads import PersonalDataFilter, cpf_digits
from kroton_pipeline.settings import utcnow
from kroton_pipeline.support.lead_report import render_story
from kroton_pipeline.support.lead_story import LeadNotFound, find_story

log = logging.getLogger("kroton_pipeline.lead")

_ID = re.compile(r"[0-9]{1,10}")
_ERASED = re.compile(rf"{ERASED_CPF_PREFIX}[0-9]{{10}}", re.IGNORECASE)
PROMPT = "CPF or subscription id: "


class BadLeadReference(ValueError):
    """Neither a CPF nor a subscription id (the message never repeats what was typed)."""


def parse_reference(text: str) -> tuple[str | None, int | None]:
    """``(cpf, None)`` for an 11-digit CPF (punctuated or not, or an erased ``X…`` one),
    ``(None, id)`` for a subscription id."""
    value = text.strip()
    if _ERASED.fullmatch(value):
        return value.upper(), None
    if _ID.fullmatch(value):
        return None, int(value)
    digits = cpf_digits(value)
    if digits is not None:
        return digits, None
    raise BadLeadReference("expected a CPF (11 digits) or a subscription id (up to 10 digits)")


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m kroton_pipeline.lead",
        description="One lead's whole story: export rows, attempts, status changes, course "
        "options, Kroton's answers and what happens next. Personal data is masked.",
    )
    parser.add_argument(
        "reference",
        nargs="?",
        metavar="ID",
        help="a subscription id. Leave it out to type a CPF (or an id) at the prompt, or pipe "
        "it on stdin: the prompt is preferred for a CPF, which would otherwise stay in the "
        "shell history. A CPF given here is accepted.",
    )
    parser.add_argument(
        "--show-personal-data",
        action="store_true",
        help="show CPF, name, e-mail, phone, birth date and address unmasked (for an "
        "authorised person only; logged with the subscription ids shown)",
    )
    return parser.parse_args(argv)


def _read_reference(stdin: TextIO) -> str:
    if stdin.isatty():
        return getpass.getpass(PROMPT)
    return stdin.readline()


def _configure_logging() -> None:
    if logging.getLogger().handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(PersonalDataFilter(mask_dates=False))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])


def main(
    argv: Sequence[str] | None = None,
    *,
    engine: Engine | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    now: datetime | None = None,
) -> int:
    """Print the story of the lead named by ``argv`` (or read from ``stdin``); 0 when found,
    1 when nothing holds that CPF or id, 2 when the reference is neither."""
    args = _arguments(argv)
    out = stdout or sys.stdout
    _configure_logging()
    raw = args.reference if args.reference is not None else _read_reference(stdin or sys.stdin)
    try:
        cpf, subscription_id = parse_reference(raw)
    except BadLeadReference as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if engine is None:
        from kroton_pipeline.db.engine import make_engine
        from kroton_pipeline.settings import load_settings

        engine = make_engine(load_settings().database_url)
    try:
        with engine.connect() as conn:
            story = find_story(conn, cpf=cpf, subscription_id=subscription_id)
    except LeadNotFound as exc:
        print(f"Not found: {exc}.", file=out)
        return 1
    if args.show_personal_data and not story.erased:
        log.warning(
            "personal data shown unmasked to %s for subscriptions %s (%d rejected row(s))",
            getpass.getuser(),
            story.subscription_ids or "none",
            sum(1 for row in story.export_rows if row.subscription_id is None),
        )
    out.write(render_story(story, now=now or utcnow(), show_personal_data=args.show_personal_data))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
