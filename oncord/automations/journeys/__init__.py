"""Journeys: an automation's trigger followed by ordered steps (send, wait, condition, stop)."""
