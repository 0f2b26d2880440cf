"""Fleets: one spec, one shared module, one Terraform root per AWS account."""
