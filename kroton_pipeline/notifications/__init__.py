"""Slack notifications: message builders, alert conditions and their start/clear state.

- :mod:`.thresholds`  alert thresholds and the webserver URL, read from the environment
- :mod:`.messages`    Slack payloads (text + blocks), never with personal data
- :mod:`.alerts`      the alert conditions, evaluated from what a run did
- :mod:`.alert_state` "once when it starts, once when it clears", kept in the database
- :mod:`.slack`       the Slack resource (dagster-slack's ``SlackResource`` + channel)
- :mod:`.run_facts`   what a finished run did, read from the Dagster instance
"""
