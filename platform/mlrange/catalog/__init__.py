"""The catalog app."""
