"""Online bookings: the clinic's Cliniko bookings address, validated embed code, website pages."""
