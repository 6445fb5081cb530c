"""Assignments: one unit's obligation under a task (per period when it recurs). A unit's inbox."""
