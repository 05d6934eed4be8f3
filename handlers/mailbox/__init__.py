"""The principal's and party secretary's mailbox: writing, reading, the recipients' inbox."""
