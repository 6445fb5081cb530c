"""Webhooks (gửi sự kiện sang hệ thống khác): subscriptions, signed deliveries, the outbox relay and retries."""
