"""Vietnam's working-day calendar (ngày làm việc) and local-time helpers."""
