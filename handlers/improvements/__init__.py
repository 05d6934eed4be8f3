"""Improvement actions (改进行动): opened from a proposal, question, theme or letter."""
