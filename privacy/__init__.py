"""Members' data rights (see, copy, erase what the bot holds about them) and retention."""
