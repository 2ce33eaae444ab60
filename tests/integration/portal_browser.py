"""A browser for the customer portal function, in-process: it keeps the cookies the portal sets,
posts forms with the CSRF token of the page it last read, and reads sign-in links from the outbox.
"""

from __future__ import annotations

import base64
import copy
import os
import re
import uuid
from dataclasses import dataclass, field
from html import unescape
from typing import Any
from urllib.parse import urlencode, urlsplit

import boto3

from tests.integration.api_client import ApiResponse, LambdaContext, sample_event

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class PortalBrowser:
    client_ip: str = "203.0.113.7"
    cookies: dict[str, str] = field(default_factory=dict)
    last_page: str = ""

    def request(self, method: str, path: str, form: dict[str, Any] | None = None) -> ApiResponse:
        from portal.app import lambda_handler

        parts = urlsplit(path)
        headers = {"Host": "api.remit.test"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urlencode(form, doseq=True)
        query = dict(pair.split("=", 1) for pair in parts.query.split("&") if "=" in pair) or None
        event = copy.deepcopy(sample_event("create_organisation"))
        request_id = str(uuid.uuid4())
        event.update(
            httpMethod=method,
            path=parts.path,
            resource="/p/{proxy+}",
            headers=headers,
            multiValueHeaders={k: [v] for k, v in headers.items()},
            queryStringParameters=query,
            multiValueQueryStringParameters={k: [v] for k, v in query.items()} if query else None,
            pathParameters={"proxy": parts.path.removeprefix("/p/")},
            body=body,
            isBase64Encoded=False,
        )
        event["requestContext"].update(
            httpMethod=method, path=parts.path, requestId=request_id, domainName="api.remit.test"
        )
        event["requestContext"].setdefault("identity", {})["sourceIp"] = self.client_ip
        result = lambda_handler(event, LambdaContext(aws_request_id=request_id, function_name="remit-portal"))
        raw = result.get("body") or ""
        content = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
        answer_headers = dict(result.get("headers") or {})
        set_cookies = (result.get("multiValueHeaders") or {}).get("Set-Cookie") or (
            [answer_headers["Set-Cookie"]] if "Set-Cookie" in answer_headers else []
        )
        for cookie in set_cookies:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in cookie or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        response = ApiResponse(result["statusCode"], answer_headers, content)
        if response.content_type.startswith("text/html"):
            self.last_page = content.decode()
        return response

    def get(self, path: str) -> ApiResponse:
        return self.request("GET", path)

    def csrf(self) -> str:
        found = _CSRF.search(self.last_page)
        assert found, "the last page has no form"
        return unescape(found.group(1))

    def post(self, path: str, form: dict[str, Any] | None = None, *, csrf: str | None = None) -> ApiResponse:
        """Post `form` with the CSRF token of the last page read (or `csrf`)."""
        return self.request(
            "POST", path, {"csrf_token": self.csrf() if csrf is None else csrf, **(form or {})}
        )

    def ask_for_link(self, org: str, email: str) -> ApiResponse:
        self.get(f"/p/{org}")
        return self.post(f"/p/{org}/sign_in", {"email": email})

    def sign_in_with(self, link: str) -> ApiResponse:
        path = urlsplit(link).path
        self.get(path)
        return self.post(path)


def sign_in_links(org: str) -> list[dict[str, Any]]:
    """The sign-in emails the outbox owes for `org`: recipient, customer and link."""
    items = boto3.client("dynamodb").query(
        TableName=os.environ["REMIT_BILLING_TABLE"],
        KeyConditionExpression="PK = :pk AND begins_with(SK, :outbox)",
        ExpressionAttributeValues={":pk": {"S": f"ORG#{org}"}, ":outbox": {"S": "OUTBOX#"}},
    )["Items"]
    return [
        {
            "id": item["id"]["S"],
            "to": [t["S"] for t in item["to"]["L"]],
            "customer_id": item["customer_id"]["S"],
            "link": item.get("portal_link", {}).get("S"),
        }
        for item in items
        if item["kind"]["S"] == "portal_sign_in"
    ]
