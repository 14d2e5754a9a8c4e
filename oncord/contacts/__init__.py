"""Contacts domain code: list queries and search, the contact page, staff edits, export."""
