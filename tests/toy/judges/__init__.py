"""Judges of the grader's test course (never shipped to students)."""
