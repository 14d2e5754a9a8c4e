"""Thin RQ entry points: take ids, load state from the database, call domain code."""
