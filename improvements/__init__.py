"""Improvement actions (诊改): from what members said to what changed, and telling them."""
