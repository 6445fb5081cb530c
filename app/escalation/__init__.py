"""Escalation (đôn đốc): reminders before a deadline, and escalation up the tree after it."""
