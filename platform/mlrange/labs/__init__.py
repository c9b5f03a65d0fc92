"""The labs app."""
