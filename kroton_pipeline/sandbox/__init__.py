"""Sandbox simulator of Kroton's APIs (Kroton, Captação, catalog middleware).

Standalone: never imported by product code, and imports nothing outside this package.
"""

from kroton_pipeline.sandbox.lifecycle import Timing
from kroton_pipeline.sandbox.messages import Credentials
from kroton_pipeline.sandbox.server import SandboxServer
from kroton_pipeline.sandbox.state import preseeded_kind

__all__ = ["Credentials", "SandboxServer", "Timing", "preseeded_kind"]
