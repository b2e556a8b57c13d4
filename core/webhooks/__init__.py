"""Signed webhooks: external systems subscribe to event kinds; the service that decides an event
writes one delivery per subscription in its transaction (``services.webhook_emit``); Celery sends
them after commit, signed (``verify.sign``), in order per subscription, each once, with retries,
an attempt log and a dead-letter state that administrators replay (docs/webhooks.md)."""
