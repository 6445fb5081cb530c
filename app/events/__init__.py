"""Events: every state change, written in the same transaction (transactional outbox)."""
