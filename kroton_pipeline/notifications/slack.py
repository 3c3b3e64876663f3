"""The Slack resource: dagster-slack's ``SlackResource`` plus a channel and an off switch.

``SlackResource.get_client()`` builds a ``WebClient`` for slack.com only; this subclass
passes ``base_url`` too (``SLACK_API_URL``), so tests talk to a local server standing in
for Slack's Web API over real HTTP. The token reaches it only through
``EnvVar("SLACK_BOT_TOKEN")``; with no token (or no channel) Slack is off and
:meth:`KrotonSlackResource.post` sends nothing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

import dagster as dg
from dagster_slack import SlackResource
from pydantic import Field
from slack_sdk.errors import SlackApiError
from slack_sdk.web.client import WebClient

from kroton_pipeline.notifications.messages import SlackMessage
from kroton_pipeline.notifications.thresholds import DEFAULT_WEBSERVER_URL, webserver_url
from kroton_pipeline.settings import Settings

SLACK_API_URL = "https://slack.com/api/"
log = logging.getLogger(__name__)


class KrotonSlackResource(SlackResource):
    """Posts the pipeline's messages to one channel; off when token or channel is empty."""

    token: str = Field("", description="Bot token, from EnvVar('SLACK_BOT_TOKEN'); empty: off.")
    channel: str = Field("", description="Channel id or name (SLACK_CHANNEL).")
    base_url: str = Field(SLACK_API_URL, description="Slack Web API URL (SLACK_API_URL).")
    webserver_url: str = Field(
        DEFAULT_WEBSERVER_URL,
        description="Dagster UI base URL for run links (DAGSTER_WEBSERVER_URL).",
    )
    timeout_seconds: int = 10

    @property
    def enabled(self) -> bool:
        return bool(self.token and self.channel)

    def get_client(self) -> WebClient:
        """A ``WebClient`` on ``base_url`` with this resource's token."""
        return WebClient(token=self.token, base_url=self.base_url, timeout=self.timeout_seconds)

    def post(self, message: SlackMessage) -> bool:
        """Send ``message``; False when Slack is off or refused it (logged, never raised).

        A Slack outage must not fail the sensor that reports a run, nor the run.
        """
        if not self.enabled:
            return False
        try:
            self.get_client().chat_postMessage(**message.payload(self.channel))
        except (SlackApiError, OSError) as exc:
            # SlackApiError's text carries Slack's answer (error code), not our message.
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else None
            log.warning("Slack refused a message: %s %s", type(exc).__name__, error or "")
            return False
        return True


def slack_resource(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> dg.ConfigurableResource:
    """The Slack resource for these settings: on with a token and a channel, else off."""
    environ = os.environ if environ is None else environ
    if not settings.slack_enabled:
        return KrotonSlackResource(webserver_url=webserver_url(environ))
    return KrotonSlackResource(
        token=dg.EnvVar("SLACK_BOT_TOKEN"),
        channel=settings.slack_channel or "",
        base_url=(environ.get("SLACK_API_URL") or "").strip() or SLACK_API_URL,
        webserver_url=webserver_url(environ),
    )
