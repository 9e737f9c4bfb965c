"""E-mail over SMTP (RFC 5321): plain-text and HTML alternatives (RFC 2046 multipart/alternative)
in UTF-8, the subject RFC 2047-encoded, through STARTTLS (RFC 3207, port 587), implicit TLS
(RFC 8314, port 465) or plain SMTP, with AUTH when a username is set. smtplib runs in a thread.

SMTP reply codes 4xx and broken connections are retried; 5xx (a refused recipient or login)
are not.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from pipeline.notify.channels import DeliveryError
from pipeline.notify.render import Notification, Rendered
from pipeline.notify.subscriptions import EmailConfig
from pipeline.timeutil import parse_duration

PORTS = {"starttls": 587, "ssl": 465, "none": 25}


def build(message: Rendered, notification: Notification, config: EmailConfig) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = config.sender
    mail["To"] = ", ".join(config.to)
    mail["Date"] = formatdate(localtime=True)
    mail["Message-ID"] = make_msgid(domain="envmon")
    mail["X-Envmon-Key"] = notification.key
    mail.set_content(message.text, charset="utf-8")
    mail.add_alternative(message.html, subtype="html", charset="utf-8")
    return mail


class Email:
    def __init__(self, config: EmailConfig, secrets: Mapping[str, str]) -> None:
        self.config = config
        self.password = secrets.get("password_env")
        self.port = config.port or PORTS[config.security]
        self.timeout = parse_duration(config.timeout)

    async def send(self, message: Rendered, notification: Notification) -> None:
        mail = build(message, notification, self.config)
        await asyncio.to_thread(self._send, mail)

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.config.ca_file)

    def _send(self, mail: EmailMessage) -> None:
        c = self.config
        try:
            if c.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    c.host, self.port, timeout=self.timeout, context=self._context()
                )
            else:
                smtp = smtplib.SMTP(c.host, self.port, timeout=self.timeout)
            with smtp:
                if c.security == "starttls":
                    smtp.starttls(context=self._context())
                if c.username:
                    smtp.login(c.username, self.password or "")
                smtp.send_message(mail)
        except smtplib.SMTPResponseException as exc:
            text = (
                exc.smtp_error.decode(errors="replace")
                if isinstance(exc.smtp_error, bytes)
                else exc.smtp_error
            )
            raise DeliveryError(f"SMTP {exc.smtp_code}: {text}", exc.smtp_code < 500) from None
        except smtplib.SMTPNotSupportedError as exc:  # e.g. no AUTH offered: a setup problem
            raise DeliveryError(f"{type(exc).__name__}: {exc}", False) from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"recipients refused: {exc.recipients}", False) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from None
