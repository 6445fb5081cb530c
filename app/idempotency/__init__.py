"""Idempotency-Key for retried writes, as Stripe and the IETF draft do it."""
