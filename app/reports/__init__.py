"""Reports (báo cáo): what a unit submits against an assignment, and the issuer's decision on it."""
