"""The course's judges, one package per TP: cases, verdicts with oracles, known mistakes.

Never shipped to students, never in a kernel's view (see grader/judging.py).
"""
