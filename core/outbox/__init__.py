"""The transactional outbox: a service that should tell someone writes the message in its own
transaction (``services.notify``); Celery delivers it after commit, per channel, idempotently,
with retries and a dead-letter state (``services.delivery_attempt``, ``core.tasks``)."""
