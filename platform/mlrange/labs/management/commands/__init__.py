"""Management commands of mlrange.labs."""
