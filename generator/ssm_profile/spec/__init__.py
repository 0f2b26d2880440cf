"""Stage 1: a spec file becomes a validated spec (parse, shape, model, rules; :mod:`.load` is the entry)."""
