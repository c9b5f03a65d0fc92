"""Models of mlrange.assessments."""
