"""Staff accounts: users, passwords, roles and the login throttle."""
