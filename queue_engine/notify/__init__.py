"""Notifications (DESIGN §11): the outbox written with the change, its worker, and webhooks."""
