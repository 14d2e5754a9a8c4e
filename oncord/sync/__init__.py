"""Pulling Cliniko into the database (and, later, pushing local edits back)."""
