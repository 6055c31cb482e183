"""The /api/v1 contract of webhook subscriptions (DESIGN §7, §11)."""

from __future__ import annotations

from pydantic import Field

from kiosk.api.models.base import Answer, Body


class NewWebhook(Body):
    """A URL to subscribe to some events."""

    url: str = Field(max_length=500, description="http:// or https:// address that receives the POSTs")
    events: list[str] = Field(min_length=1, description="e.g. ['ticket.called', 'ticket.near']")
    trusted_for_personal_data: bool = Field(
        default=False, description="send names, phones and contacts too (data.personal)"
    )


class Webhook(Answer):
    """A subscription; ``secret`` only in the answer that made it (shown once)."""

    id: int
    url: str
    events: list[str]
    trusted_for_personal_data: bool
    created_at: str | None
    secret: str | None = None
