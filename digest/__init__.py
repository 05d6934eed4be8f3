"""Weekly digests: what members said and what changed, for the people who act on it."""
