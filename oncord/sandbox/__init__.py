"""A local stand-in for Cliniko's REST API, with seeded data and test controls.

Start one with `oncord.sandbox.server.start_sandbox()` (tests, demo) or `flask sandbox serve`.
"""
