"""The core wired once, and what runs it headless: the self-test and maintenance commands."""
