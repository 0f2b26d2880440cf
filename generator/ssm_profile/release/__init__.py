"""Versioned releases of a generated module: the release record, semantic versions, what changed between
two releases, and publishing a release (:mod:`.publish`)."""
