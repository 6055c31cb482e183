"""The /api/v1 contract of the SMS gateway's inbound replies (DESIGN §11)."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from kiosk.api.models.base import Answer, Body, Text


class InboundSms(Body):
    """A reply a visitor texted back, as the gateway (or the hall's relay) passes it on."""

    # Gateways add fields of their own (ids, timestamps): they are ignored, not refused.
    model_config = ConfigDict(strict=True, extra="ignore")

    phone: Text = Field(max_length=32, description="the number that replied: 13800138000, +8613800138000")
    text: Text = Field(max_length=1000, description="the reply; STOP, 退订 or TD stops all messages")


class InboundAnswer(Answer):
    """Whether the reply stopped the number's messages."""

    stopped: bool
