"""Typed settings, read from the environment (prefix ``REGULARS_``) and an optional ``.env``.

Everything a deployment may change lives here, so that no other module reads the environment.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Deployment settings; the defaults run the embedded demo on SQLite."""

    model_config = SettingsConfigDict(env_prefix="REGULARS_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///regulars.db",
        description="SQLAlchemy URL; postgresql+psycopg://… in production.",
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public URL of the console, used in unsubscribe and survey links.",
    )
    secret_key: str = Field(
        default="change-me-in-production-regulars-demo-secret",
        description="Signs session cookies, unsubscribe tokens and webhook payloads.",
    )
    host: str = "127.0.0.1"
    port: int = 8000

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_sender: str = "regulars <hello@regulars.example>"
    smtp_timeout_s: float = 10.0

    sms_endpoint: str = "http://127.0.0.1:8025/sms"
    sms_api_key: str | None = None
    sms_timeout_s: float = 10.0

    webhook_url: str | None = None
    webhook_secret: str = "change-me-webhook-secret"  # noqa: S105 - demo default, documented
    webhook_timeout_s: float = 10.0

    outbox_max_attempts: int = Field(
        default=6, ge=1, description="Tries per message before it goes to the dead letters."
    )
    outbox_backoff_base_s: float = Field(default=60.0, gt=0, description="First retry delay.")
    outbox_backoff_cap_s: float = Field(default=21600.0, gt=0, description="Longest retry delay.")
    outbox_lease_s: float = Field(
        default=300.0, gt=0, description="How long a worker holds a message it is sending."
    )
    outbox_poll_s: float = Field(
        default=60.0, gt=0, description="How often `regulars deliver` looks for due messages."
    )

    # A Literal, so that a typo ("march1") stops the start instead of quietly meaning feb28.
    leap_birthday_rule: Literal["feb28", "mar1"] = Field(
        default="feb28",
        description="When a 29 February birthday is celebrated in a common year: feb28 or mar1.",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
