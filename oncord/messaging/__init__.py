"""E-mail and SMS infrastructure shared by automations and campaigns (no Flask request code)."""
