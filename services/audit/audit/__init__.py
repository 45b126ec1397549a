"""The audit service: the append-only trail of who did what, searchable by administrators."""
