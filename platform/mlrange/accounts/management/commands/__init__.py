"""Management commands of mlrange.accounts."""
