"""The package's version, in a leaf module every other module can import without a cycle.

pyproject.toml reads it from here (``[tool.setuptools.dynamic]``), so it is written once.
"""

__version__ = "0.3.0"
