"""The data rights of a member: see, download, ask for deletion; officers confirm."""
