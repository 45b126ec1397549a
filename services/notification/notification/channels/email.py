"""Email over SMTP with aiosmtplib (STARTTLS and login when configured).

Idempotency: SMTP has none across connections; the Message-ID header carries our message
id, so a recipient's mail client (and a person reading the log) can tell a repeat.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formataddr, make_msgid

import aiosmtplib
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from notification.channels.base import Delivery, PermanentFailure, Sent, TransientFailure


class EmailSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WEIQUAN_NOTIFICATION_SMTP_", extra="ignore")

    host: str = ""
    port: int = 25
    username: str = ""
    password: SecretStr = SecretStr("")
    start_tls: bool = False
    sender: str = ""  # the From address, e.g. weiquan@union.example.cn
    sender_name: str = "工会维权服务"
    timeout_s: float = Field(default=15.0, gt=0)


class SmtpEmail:
    name = "email"

    def __init__(self, settings: EmailSettings) -> None:
        self.settings = settings

    @property
    def missing(self) -> list[str]:
        needed = {
            "WEIQUAN_NOTIFICATION_SMTP_HOST": self.settings.host,
            "WEIQUAN_NOTIFICATION_SMTP_SENDER": self.settings.sender,
        }
        return [name for name, value in needed.items() if not value]

    async def send(self, delivery: Delivery) -> Sent:
        s = self.settings
        message = EmailMessage()
        message["From"] = formataddr((s.sender_name, s.sender))
        message["To"] = delivery.address
        message["Subject"] = delivery.subject or delivery.text.splitlines()[0][:60]
        domain = s.sender.rpartition("@")[2] or None
        message["Message-ID"] = make_msgid(idstring=delivery.message_id.hex, domain=domain)
        message.set_content(delivery.text)
        for filename, content in delivery.attachments:
            message.add_attachment(
                content, maintype="application", subtype="pdf", filename=filename
            )
        try:
            await aiosmtplib.send(
                message,
                hostname=s.host,
                port=s.port,
                username=s.username or None,
                password=s.password.get_secret_value() or None,
                start_tls=s.start_tls,
                timeout=s.timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            # The server's words may repeat the address: only the codes are kept.
            codes = ",".join(str(r.code) for r in exc.recipients)
            raise PermanentFailure(f"recipient refused by the SMTP server ({codes})") from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise TransientFailure(f"{type(exc).__name__} ({exc.code})") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise TransientFailure(type(exc).__name__) from exc
        return Sent(message["Message-ID"])
