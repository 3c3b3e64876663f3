"""Slack messages: job start/end with counts per status, failures, alerts.

Builders are pure: they take figures, names and ids, never a lead, and every text goes
through :func:`~kroton_pipeline.domain.leads.scrub` once more on the way out, so a CPF,
e-mail or phone that slipped into an error message leaves masked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kroton_pipeline.domain.leads import scrub

# Error messages are cut: the run page has the rest, and long texts hide the point.
MAX_ERROR_CHARS = 300
_ICONS = {"SUCCESS": ":white_check_mark:", "FAILURE": ":x:", "CANCELED": ":no_entry_sign:"}


@dataclass(frozen=True)
class SlackMessage:
    """What ``chat.postMessage`` receives: a plain-text fallback and Block Kit blocks."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def payload(self, channel: str) -> dict[str, Any]:
        return {"channel": channel, "text": self.text, "blocks": self.blocks}


def _safe(text: str) -> str:
    # Operational dates (partition keys, times) stay readable; personal data does not.
    return scrub(text, dates=False)


def _message(text: str, lines: list[str], link: str | None) -> SlackMessage:
    body = "\n".join(_safe(line) for line in lines)
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": body}}]
    if link:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{link}|Open the run>"}]}
        )
    return SlackMessage(text=_safe(text), blocks=blocks)


def _scope(partition: str | None) -> str:
    return f" ({partition})" if partition else ""


def counts_line(counts: Mapping[str, int]) -> str:
    """``registered 120 · to_register 3`` — statuses with leads, largest first."""
    shown = sorted(((k, v) for k, v in counts.items() if v), key=lambda kv: (-kv[1], kv[0]))
    return " · ".join(f"{status} {count}" for status, count in shown) or "no leads"


def run_started_message(
    job: str, run_id: str, partition: str | None, link: str | None
) -> SlackMessage:
    """A job started."""
    text = f":arrow_forward: {job}{_scope(partition)} started — run {run_id[:8]}"
    return _message(text, [f"*{job}*{_scope(partition)} started (run `{run_id[:8]}`)"], link)


def run_finished_message(
    job: str,
    run_id: str,
    status: str,
    partition: str | None,
    counts: Mapping[str, int],
    duration_seconds: float | None,
    link: str | None,
    forecast: tuple[int, float] | None = None,
) -> SlackMessage:
    """A job ended: its status, how long it took, the leads per status it covers and, after
    a registration pass, the forecast (leads waiting to be sent, days to send them)."""
    icon = _ICONS.get(status, ":information_source:")
    took = f" in {duration_seconds:.0f} s" if duration_seconds is not None else ""
    text = f"{icon} {job}{_scope(partition)} {status.lower()}{took} — {counts_line(counts)}"
    lines = [
        f"{icon} *{job}*{_scope(partition)} {status.lower()}{took} (run `{run_id[:8]}`)",
        f"Leads per status: {counts_line(counts)}",
    ]
    if forecast is not None:
        backlog, days = forecast
        lines.append(f"Forecast: {backlog} lead(s) waiting to be sent, ~{days:g} day(s) of budget")
    return _message(text, lines, link)


def run_failed_message(
    job: str,
    run_id: str,
    partition: str | None,
    error_class: str,
    error_message: str | None,
    step: str | None,
    link: str | None,
) -> SlackMessage:
    """A job failed: the error class, the failed step and the first line of the error."""
    first_line = (error_message or "").strip().splitlines()[0] if error_message else ""
    # Dagster's error text starts "module.path.ErrorClass: "; the class is shown already.
    first_line = scrub(re.sub(rf"^[\w.]*\b{re.escape(error_class)}: ", "", first_line))
    if len(first_line) > MAX_ERROR_CHARS:
        first_line = first_line[: MAX_ERROR_CHARS - 1] + "…"
    where = f" in `{step}`" if step else ""
    text = f":x: {job}{_scope(partition)} failed: {error_class}{where}"
    lines = [f":x: *{job}*{_scope(partition)} failed{where}: `{error_class}`"]
    if first_line:
        lines.append(f"> {first_line}")
    return _message(text, lines, link)


def alert_message(
    title: str, started: bool, detail: str, run_id: str | None, link: str | None
) -> SlackMessage:
    """An alert starts (``started``) or clears, with the figure that decided it."""
    icon, state = (":warning:", "started") if started else (":large_green_circle:", "cleared")
    text = f"{icon} Alert {state}: {title} — {detail}"
    lines = [f"{icon} *Alert {state}: {title}*", detail]
    if run_id:
        lines.append(f"Seen in run `{run_id[:8]}`")
    return _message(text, lines, link)


def run_url(base_url: str, run_id: str) -> str:
    """Link to one run in the Dagster UI."""
    return f"{base_url.rstrip('/')}/runs/{run_id}"
