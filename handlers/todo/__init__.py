"""/todo: everything waiting for an officer, handler or recipient."""
