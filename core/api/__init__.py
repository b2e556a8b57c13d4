"""What the API needs of the shared kernel: personal access tokens and idempotency records.

Both are about accounts (who acts, with which credential, which request they already made), so
they live here; the web layer (``web.api``) authenticates with them and knows the enterprises."""
