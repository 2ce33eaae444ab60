"""Where the platform is reached from outside (a hosted invoice page's link, a logo's URL): one
rule for the API and the dashboard, which API Gateway serves on the same host.
"""

from __future__ import annotations


def public_base_url(configured: str | None, domain: str | None, stage: str | None) -> str:
    """The configured URL; else the host the request came to, with the stage when it is API
    Gateway's own `execute-api` host (a custom domain maps the stage away).
    """
    if configured:
        return configured.rstrip("/")
    host = domain or "localhost"
    return f"https://{host}{stage_prefix(host, stage)}"


def stage_prefix(domain: str | None, stage: str | None) -> str:
    """The path a page's own links start with: `/<stage>` on API Gateway's `execute-api` host,
    where the stage is part of every path; nothing on a custom domain or the local stack.
    """
    if domain and domain.endswith(".amazonaws.com") and stage:
        return f"/{stage}"
    return ""
