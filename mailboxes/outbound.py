"""Filled in by the mail issue."""
