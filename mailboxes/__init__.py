"""The principal's and the party secretary's mailboxes: named, confidential and anonymous
letters, replies, transfers, SLAs, and the promises each identity mode makes.

(Named `mailboxes` because `mailbox` is a standard-library module.)"""
