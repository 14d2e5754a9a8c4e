"""Bookings attributed to messages: link clicks, the attribution rule at sync, and the figures."""
