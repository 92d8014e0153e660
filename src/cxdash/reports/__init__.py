"""Exports: CSV today; Excel and PowerPoint with the quarterly review."""
