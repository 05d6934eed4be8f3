"""Proposals and suggestions: filing, co-signing, the public board, officers' work."""
