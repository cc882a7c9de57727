"""Command implementations behind run.py."""
