"""Settings read once from the environment."""

from __future__ import annotations

from functools import cache
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REMIT_", extra="ignore")

    stage: Literal["local", "dev", "prod", "test"] = "local"
    billing_table: str = "remit-billing"
    idempotency_table: str = "remit-idempotency"
    logo_bucket: str = "remit-logos"
    # Public base URL of the API (hosted pages, logos). Empty: derived from each request.
    public_base_url: str = ""
    # How long a warm Lambda trusts an API key look-up before asking DynamoDB again.
    api_key_cache_seconds: float = 300.0
    max_logo_bytes: int = 1024 * 1024


@cache
def settings() -> Settings:
    return Settings()
