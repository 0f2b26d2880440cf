"""Running real Terraform: finding it and the provider, and proving generated modules with it.

The pure pipeline never imports this package. Everything that touches a subprocess, the
environment or the provider mirror sits here, behind :class:`~.runner.TerraformRunner`.
"""
