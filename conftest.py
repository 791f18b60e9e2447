"""Test collection: the masters (solutions/*.ipynb) run under nbval; starters are not run
(they raise NotImplementedError by design) and the grader's test notebooks are data."""

collect_ignore_glob = ["tp*/*.ipynb", "projet_*/*.ipynb", "tests/**/*.ipynb"]
