"""The web adapter: JSON API under /api/v1 and the staff console."""
