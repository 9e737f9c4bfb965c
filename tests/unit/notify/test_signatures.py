"""Signatures as the receivers compute them: DingTalk 加签 (vector from an independent
implementation), Feishu 签名校验, and our webhook's HMAC over timestamp and body."""

from __future__ import annotations

import base64
import hashlib
import hmac

from pipeline.notify.channels import dingtalk, feishu, webhook


def test_dingtalk_sign_matches_an_independent_implementation() -> None:
    # the dingding crate (docs.rs) tests create_signature("1700000000000", "secret") with this
    assert (
        dingtalk.sign("secret", "1700000000000")
        == "OuzzJR5%2BxZ4%2FEYwqtNt6sMYZQMTa%2FHEGvc9miJe7XzY%3D"
    )


def test_feishu_sign_is_hmac_keyed_by_timestamp_and_secret_over_nothing() -> None:
    key = b"1599360473\nfeishu-secret"
    expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert feishu.sign("feishu-secret", "1599360473") == expected


def test_webhook_signature_covers_timestamp_and_body() -> None:
    body = '{"k":"告警"}'.encode()
    sig = webhook.signature("hook-secret", "1700000000", body)
    mac = hmac.new(b"hook-secret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sig == f"sha256={mac}"
    assert webhook.signature("hook-secret", "1700000001", body) != sig
