"""``python -m kroton_pipeline.db upgrade|current [--url URL]``.

Without ``--url`` the database is ``KROTON_DATABASE_URL`` (default: the embedded SQLite file).
"""

from __future__ import annotations

import argparse
import sys

from sqlalchemy.engine import make_url

from kroton_pipeline.db.engine import current, upgrade


def _default_url() -> str:
    from kroton_pipeline.settings import load_settings

    return load_settings().database_url


def main(argv: list[str] | None = None) -> int:
    """Entry point of the database command line."""
    parser = argparse.ArgumentParser(prog="python -m kroton_pipeline.db")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("upgrade", help="migrate the database to the latest revision")
    up.add_argument("--revision", default="head")
    cur = sub.add_parser("current", help="print the database's revision")
    for command in (up, cur):
        command.add_argument("--url", help="database URL (default: KROTON_DATABASE_URL)")
    args = parser.parse_args(argv)

    url = args.url or _default_url()
    # Never print the password of the URL.
    shown = make_url(url).render_as_string(hide_password=True)
    if args.command == "upgrade":
        upgrade(url, args.revision)
        print(f"{shown}: at revision {current(url)}")
    else:
        print(current(url) or "(not migrated)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
