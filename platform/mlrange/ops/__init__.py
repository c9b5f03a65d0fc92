"""The ops app."""
