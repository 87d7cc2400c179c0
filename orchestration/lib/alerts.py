"""Failure alerts to an optional webhook (MIRROR_TRADE_ALERT_WEBHOOK): a JSON POST, e.g. to a chat channel."""

from __future__ import annotations

import os

import requests

ENV = "MIRROR_TRADE_ALERT_WEBHOOK"


def send_alert(text: str, details: dict, url: str | None = None) -> str | None:
    """POST {"text", ...details} to the webhook. Returns an error message when the alert could not be sent; an
    alert that fails must never hide the failure it reports."""
    url = url or os.environ.get(ENV)
    if not url:
        return None
    try:
        response = requests.post(url, json={"text": text, **details}, timeout=10)
    except requests.RequestException as exc:
        return f"alert to {url} failed: {type(exc).__name__}"
    if response.status_code >= 300:
        return f"alert to {url} failed: HTTP {response.status_code}"
    return None
