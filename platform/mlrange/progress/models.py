"""Models of mlrange.progress."""
