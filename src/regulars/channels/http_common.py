"""What the SMS and webhook channels share: one HTTP client and how answers are classified."""

from __future__ import annotations

import httpx

from regulars.channels.base import SendResult


class HttpChannelBase:
    """One keep-alive HTTP client per channel, opened on first use and closed per pass."""

    timeout_s: float
    transport: httpx.BaseTransport | None
    _client: httpx.Client | None = None

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout_s, transport=self.transport)
        return self._client


#: Statuses worth retrying: the receiver is overloaded, rate-limiting, or timed out.
RETRYABLE = frozenset({408, 409, 425, 429})


def classify(response: httpx.Response, what: str) -> SendResult:
    """2xx is delivered; 5xx and the statuses above are transient; any other 4xx is permanent."""
    code = response.status_code
    if 200 <= code < 300:
        provider_id = ""
        if response.headers.get("content-type", "").startswith("application/json"):
            try:
                body = response.json()
            except ValueError:
                body = None
            if isinstance(body, dict):
                provider_id = str(body.get("id") or body.get("message_id") or "")
        return SendResult.sent(provider_id=provider_id, detail=f"{what} answered {code}")
    detail = f"{what} answered {code}: {response.text[:300]}"
    if code >= 500 or code in RETRYABLE:
        return SendResult.transient(detail)
    return SendResult.permanent(detail)


def post(client: httpx.Client, url: str, what: str, **kwargs: object) -> SendResult:
    """POST and classify; network trouble and timeouts are transient."""
    try:
        response = client.post(url, **kwargs)  # type: ignore[arg-type]
    except httpx.TimeoutException:
        return SendResult.transient(f"{what} did not answer in time")
    except httpx.HTTPError as error:
        return SendResult.transient(f"{what} unreachable: {type(error).__name__}: {error}")
    return classify(response, what)
