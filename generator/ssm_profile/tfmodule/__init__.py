"""Stage 3: the Terraform module as a document of blocks, built from the grants (:mod:`.build` is the entry)."""
