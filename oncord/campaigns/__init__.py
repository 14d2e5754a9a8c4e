"""Campaigns: appointment-based audiences, composing, sending in batches, and the report."""
