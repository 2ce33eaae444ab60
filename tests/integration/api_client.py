"""Calls the API function in-process with API Gateway events built from the samples in `events/api/`."""

from __future__ import annotations

import base64
import copy
import json
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

EVENTS = Path(__file__).resolve().parents[2] / "events" / "api"


@cache
def sample_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


@dataclass
class LambdaContext:
    aws_request_id: str
    function_name: str = "remit-api"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:remit-api"

    def get_remaining_time_in_millis(self) -> int:
        return 15_000


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")


class ApiClient:
    """A client of the API function that speaks in paths and JSON, with an optional API key."""

    def __init__(self, api_key: str | None = None) -> None:
        self.api_key = api_key

    def request(
        self,
        method: str,
        url: str,
        json_body: Any = None,
        *,
        raw_body: str | bytes | None = None,
        headers: dict[str, str] | None = None,
        api_key: str | bool | None = True,
    ) -> ApiResponse:

        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query, keep_blank_values=True)) or None
        event = copy.deepcopy(sample_event("create_organisation"))
        request_id = str(uuid.uuid4())
        all_headers = {"Content-Type": "application/json", "Host": "api.remit.test"}
        key = self.api_key if api_key is True else api_key
        if key:
            all_headers["Authorization"] = f"Bearer {key}"
        all_headers.update(headers or {})
        body: str | None
        binary = False
        if raw_body is not None:
            if isinstance(raw_body, bytes):
                body, binary = base64.b64encode(raw_body).decode(), True
            else:
                body = raw_body
        else:
            body = None if json_body is None else json.dumps(json_body)
        event.update(
            httpMethod=method,
            path=parts.path,
            headers=all_headers,
            multiValueHeaders={k: [v] for k, v in all_headers.items()},
            queryStringParameters=query,
            multiValueQueryStringParameters={k: [v] for k, v in query.items()} if query else None,
            pathParameters={"proxy": parts.path.lstrip("/")},
            body=body,
            isBase64Encoded=binary,
        )
        event["requestContext"].update(
            httpMethod=method, path=parts.path, requestId=request_id, domainName="api.remit.test"
        )
        return self.invoke(event, request_id)

    def invoke(self, event: dict[str, Any], request_id: str = "test") -> ApiResponse:
        from api.app import lambda_handler

        result = lambda_handler(event, LambdaContext(aws_request_id=request_id))
        raw = result.get("body") or ""
        content = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
        headers = dict(result.get("headers") or {})
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers.setdefault(name, values[-1])
        return ApiResponse(result["statusCode"], headers, content)

    def get(self, url: str, **kwargs: Any) -> ApiResponse:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, json_body: Any = None, **kwargs: Any) -> ApiResponse:
        return self.request("POST", url, json_body, **kwargs)

    def patch(self, url: str, json_body: Any = None, **kwargs: Any) -> ApiResponse:
        return self.request("PATCH", url, json_body, **kwargs)

    def put(self, url: str, **kwargs: Any) -> ApiResponse:
        return self.request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> ApiResponse:
        return self.request("DELETE", url, **kwargs)
