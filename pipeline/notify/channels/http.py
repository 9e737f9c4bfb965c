"""One JSON POST for the HTTP channels, with the answer sorted into taken / retry / give up.

Connection errors, timeouts, 5xx, 408 and 429 are worth retrying; other 4xx are not (the
request itself is wrong: a bad URL or token, a refused signature).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aiohttp

from pipeline.notify.channels import DeliveryError
from pipeline.notify.subscriptions import (
    DingTalkConfig,
    FeishuConfig,
    WebhookConfig,
    WeComConfig,
)
from pipeline.timeutil import parse_duration

RETRY_STATUSES = frozenset({408, 429})


def timeout_of(raw: float | str) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=parse_duration(raw))


class HttpChannel:
    """What the HTTP channels share: the URL (given, or from ``url_env``), the secret from
    ``secret_env`` (if any), the timeout, and the client session."""

    def __init__(
        self,
        config: WebhookConfig | WeComConfig | DingTalkConfig | FeishuConfig,
        secrets: Mapping[str, str],
        session: aiohttp.ClientSession,
    ) -> None:
        self.url = config.url or secrets["url_env"]
        self.secret = secrets.get("secret_env")
        self.timeout = timeout_of(config.timeout)
        self.session = session


async def post_json(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    timeout: aiohttp.ClientTimeout,
    headers: Mapping[str, str] | None = None,
) -> Any:
    """POST ``body`` (JSON); the decoded JSON answer (None when it is not JSON)."""
    all_headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    try:
        async with session.post(url, data=body, headers=all_headers, timeout=timeout) as response:
            text = await response.text(errors="replace")
            status = response.status
    except TimeoutError:
        raise DeliveryError(f"no answer within {timeout.total:g} s") from None
    except aiohttp.ClientError as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from None
    if status >= 300:
        retryable = status >= 500 or status in RETRY_STATUSES
        raise DeliveryError(f"HTTP {status}: {text[:200]}", retryable)
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def robot_answer(answer: Any, code_key: str, retry_codes: frozenset[int]) -> None:
    """IM robots answer HTTP 200 with ``{code_key: 0}`` on success and an error code otherwise."""
    if not isinstance(answer, dict):
        raise DeliveryError(f"unexpected answer {answer!r}")
    code = answer.get(code_key, answer.get("StatusCode"))
    if code != 0:
        message = answer.get("errmsg") or answer.get("msg") or answer
        raise DeliveryError(f"{code_key} {code}: {message}", code in retry_codes)
