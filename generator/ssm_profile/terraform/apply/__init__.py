"""``ssm-profile test OUT --apply``: generated modules applied to a local AWS API emulator, read back and probed."""
