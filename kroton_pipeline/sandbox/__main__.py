"""``python -m kroton_pipeline.sandbox``: run the simulator until Ctrl-C."""

from __future__ import annotations

import argparse
import os
import sys

from kroton_pipeline.sandbox.server import SandboxServer


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, print the base URLs and serve until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m kroton_pipeline.sandbox",
        description="Kroton API / Captação / catalog simulator",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rate-limit", type=int, default=100, help="requests per window")
    parser.add_argument("--rate-window", type=float, default=300.0, help="window in seconds")
    parser.add_argument("--token-ttl", type=float, default=60.0, help="OAuth2 token lifetime")
    parser.add_argument("--captacao-token-ttl", type=float, default=86_400.0)
    parser.add_argument(
        "--timeout-seconds",
        type=float,
        default=30.0,
        help="how long an injected timeout holds the connection",
    )
    parser.add_argument(
        "--dialect",
        choices=("source", "v5"),
        default=os.environ.get("KROTON_API_DIALECT", "source").strip().lower() or "source",
        help="the wire format spoken (default: KROTON_API_DIALECT, else source)",
    )
    args = parser.parse_args(argv)
    server = SandboxServer(
        port=args.port,
        host=args.host,
        seed=args.seed,
        rate_limit=args.rate_limit,
        rate_window=args.rate_window,
        token_ttl=args.token_ttl,
        captacao_token_ttl=args.captacao_token_ttl,
        timeout_seconds=args.timeout_seconds,
        dialect=args.dialect,
    )
    server.start()
    print(f"API_KROTON_BASE_URL={server.kroton_url}")
    print(f"API_KROTON_BASE_URL_CAPTACAO={server.captacao_url}")
    print(f"CATALOG_KROTON_BASE_URL={server.catalog_url}")
    print(f"dialect: {args.dialect}")
    print(f"journal: {server.journal_url}")
    print("Ctrl-C to stop", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
