"""The assessments app."""
