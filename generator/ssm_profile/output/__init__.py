"""Stage 5: putting generated files on disk without losing anything: the writer, its transaction, the
manifest, and finding generated folders again."""
