"""The common app."""
