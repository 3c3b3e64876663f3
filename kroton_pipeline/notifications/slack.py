"""The Slack resource: dagster-slack's ``SlackResource`` plus a channel, an incoming
webhook and an off switch.

Two ways to reach Slack: the design document's incoming webhook (``SLACK_WEBHOOK_URL``, the
channel is the webhook's), or a bot token and a channel (``SLACK_BOT_TOKEN``,
``SLACK_CHANNEL``). ``SlackResource.get_client()`` builds a ``WebClient`` for slack.com only;
this subclass passes ``base_url`` too (``SLACK_API_URL``), so tests talk to a local server
standing in for Slack over real HTTP. Secrets reach it only through ``EnvVar``; with
neither way configured Slack is off and :meth:`KrotonSlackResource.post` sends nothing.
"""

from __future__ import annotations

import logging

import dagster as dg
import httpx
from dagster_slack import SlackResource
from pydantic import Field
from slack_sdk.errors import SlackApiError
from slack_sdk.web.client import WebClient

from kroton_pipeline.notifications.messages import SlackMessage
from kroton_pipeline.settings import DEFAULT_SLACK_API_URL, DEFAULT_WEBSERVER_URL, Settings

log = logging.getLogger(__name__)


class KrotonSlackResource(SlackResource):
    """Posts the pipeline's messages to one channel; off when token or channel is empty."""

    token: str = Field("", description="Bot token, from EnvVar('SLACK_BOT_TOKEN'); empty: off.")
    webhook_url: str = Field(
        "", description="Incoming webhook URL, from EnvVar('SLACK_WEBHOOK_URL'); used first."
    )
    channel: str = Field("", description="Channel id or name (SLACK_CHANNEL).")
    base_url: str = Field(DEFAULT_SLACK_API_URL, description="Slack Web API URL (SLACK_API_URL).")
    webserver_url: str = Field(
        DEFAULT_WEBSERVER_URL,
        description="Dagster UI base URL for run links (DAGSTER_WEBSERVER_URL).",
    )
    timeout_seconds: int = 10

    @property
    def enabled(self) -> bool:
        return bool(self.webhook_url or (self.token and self.channel))

    def get_client(self) -> WebClient:
        """A ``WebClient`` on ``base_url`` with this resource's token."""
        return WebClient(token=self.token, base_url=self.base_url, timeout=self.timeout_seconds)

    def post(self, message: SlackMessage) -> bool:
        """Send ``message``; False when Slack is off or refused it (logged, never raised).

        A Slack outage must not fail the sensor that reports a run, nor the run.
        """
        if not self.enabled:
            return False
        if self.webhook_url:
            return self._post_to_webhook(message)
        try:
            self.get_client().chat_postMessage(**message.payload(self.channel))
        except (SlackApiError, OSError) as exc:
            # SlackApiError's text carries Slack's answer (error code), not our message.
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else None
            log.warning("Slack refused a message: %s %s", type(exc).__name__, error or "")
            return False
        return True

    def _post_to_webhook(self, message: SlackMessage) -> bool:
        body = {key: value for key, value in message.payload("").items() if key != "channel"}
        try:
            answer = httpx.post(self.webhook_url, json=body, timeout=self.timeout_seconds)
        except httpx.HTTPError as exc:
            log.warning("Slack webhook unreachable: %s", type(exc).__name__)
            return False
        if answer.status_code >= 300:
            # The answer body is Slack's error code (e.g. "invalid_payload"), never our text.
            log.warning("Slack webhook refused a message: HTTP %s", answer.status_code)
            return False
        return True


def slack_resource(settings: Settings) -> dg.ConfigurableResource:
    """The Slack resource for these settings: on with a token and a channel, else off."""
    if not settings.slack_enabled:
        return KrotonSlackResource(webserver_url=settings.webserver_url)
    if settings.slack_webhook_url:
        return KrotonSlackResource(
            webhook_url=dg.EnvVar("SLACK_WEBHOOK_URL"), webserver_url=settings.webserver_url
        )
    return KrotonSlackResource(
        token=dg.EnvVar("SLACK_BOT_TOKEN"),
        channel=settings.slack_channel or "",
        base_url=settings.slack_api_url,
        webserver_url=settings.webserver_url,
    )
