"""Models of mlrange.labs."""
