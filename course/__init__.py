"""The course library: what several TPs share, imported by notebooks (kernels) and judges alike.

Nothing here solves an exercise: data, plotting, set-up helpers. What only the judges may use
(oracles, reference classifiers, model rebuilding) lives in `judges/common/`.
"""
