"""The weekly digest in chat."""
