"""Trusted helpers shared by lab graders: safe artifact loading and result building.

Copied beside each grader as the package `_shared` (graders/<slug>/_shared/); runs with the
sandbox runtime, never in the web or worker process.
"""
