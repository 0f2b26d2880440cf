"""Stage 4 of the pipeline: renderers that write a Terraform document in one output format."""
