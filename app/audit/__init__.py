"""Audit trail (nhật ký): who changed what, with which key, in the same transaction as the change."""
