"""Stage 2: what the instance profile grants, decided from a validated spec (:mod:`.build` is the entry)."""
