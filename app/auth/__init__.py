"""API keys (khóa API) and the caller they identify: a unit, a role, and that unit's subtree."""
