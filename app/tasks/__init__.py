"""Tasks (nhiệm vụ): what a directive asks, of whom, by when, reported to whom."""
