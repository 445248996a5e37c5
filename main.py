"""Reelgate entry point (placeholder until the composition root lands)."""


def run() -> None:
    """Console-script entry."""
