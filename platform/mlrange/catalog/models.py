"""Models of mlrange.catalog."""
