"""Delivery channels: SMTP e-mail, SMS over HTTP, signed webhooks, and a fake for tests."""
