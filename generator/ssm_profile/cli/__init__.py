"""The ``ssm-profile`` command: a thin click shell over the public API (:mod:`.main` is the entry point)."""
