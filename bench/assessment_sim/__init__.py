"""Simulation benchmark of the placement engine: `python -m bench.assessment_sim`."""
