"""Autograder of the course: wraps nbgrader, judges answers outside the student's kernel."""

import sys

# jsonschema imports rfc3987_syntax when it is installed (it builds a grammar at import time:
# +2.3 s on every `import nbformat`); notebook validation never needs it.
sys.modules.setdefault("rfc3987_syntax", None)
