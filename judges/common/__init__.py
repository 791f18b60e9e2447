"""Judge code shared by several TPs (never shipped to students)."""
