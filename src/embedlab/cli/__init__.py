"""The `embedlab` command line."""

from embedlab.cli.app import app, main

__all__ = ["app", "main"]
