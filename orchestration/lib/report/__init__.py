"""What analysts read besides SQL: the self-contained HTML report of each publication."""
