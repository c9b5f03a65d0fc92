"""The progress app."""
