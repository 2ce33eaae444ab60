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
    if host.endswith(".amazonaws.com") and stage:
        return f"https://{host}/{stage}"
    return f"https://{host}"
