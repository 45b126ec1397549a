"""Composition root for notification: the consumer, one sender per configured channel,
the delivery log."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from notification.api import build_routers
from notification.channels.base import Channel
from notification.channels.email import EmailSettings, SmtpEmail
from notification.channels.sms import SmsSettings, TencentSms
from notification.channels.wechat import WeChatSettings, WeChatTemplateMessages
from notification.contacts import IntakeContacts, StaffContacts
from notification.handlers import register_handlers
from notification.reminders import ReminderTime, SessionReminders
from notification.rules import rule_book
from notification.sender import ChannelSender, Timing
from notification.survey import SurveyLinks
from notification.survey_api import build_survey_routers
from notification.timing import QuietHours, RateLimit, RetryPolicy
from notification.wechat_reply import WeChatReplyIn, build_wechat_reply_router
from weiquan_shared.http import field_labels
from weiquan_shared.logging import get_logger
from weiquan_shared.service import Runtime, bootstrap_settings, create_service_app
from weiquan_shared.service_client import ServiceTokenClient
from weiquan_shared.settings import Settings

log = get_logger(__name__)


class NotificationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WEIQUAN_NOTIFICATION_", extra="ignore")

    # Where the workers' contacts are asked for, and where this service gets its token.
    intake_url: str = "http://127.0.0.1:8101"
    token_url: str = "http://127.0.0.1:8107/api/v1/token"
    # Where mediators' and lawyers' work addresses are asked for (identity).
    identity_url: str = "http://127.0.0.1:8107"
    # Mediators are reminded of tomorrow's sessions from this hour (local, reminder_zone).
    reminder_at: time = time(9, 0)
    reminder_zone: str = "Asia/Shanghai"
    reminder_poll_s: float = Field(default=60.0, gt=0)
    # No SMS to workers in these hours (local time of quiet_zone): held, never dropped.
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    quiet_zone: str = "Asia/Shanghai"
    max_attempts: int = Field(default=8, ge=1)
    retry_first_delay_s: float = Field(default=30.0, gt=0)
    retry_max_delay_s: float = Field(default=3600.0, gt=0)
    # At most this many messages to one recipient on one channel per window.
    rate_messages: int = Field(default=5, ge=1)
    rate_window_s: float = Field(default=3600.0, gt=0)
    # Signs the satisfaction survey links (make up generates it); empty: no surveys.
    survey_key: SecretStr = SecretStr("")
    survey_lifetime_s: float = Field(default=14 * 24 * 3600.0, gt=0)
    # Where a worker's phone reaches notification (the survey link in an SMS): the
    # proxy's public address in production; the local proxy by default.
    public_url: str = "http://127.0.0.1:8100/notification"
    workers_per_channel: int = Field(default=2, ge=1, le=16)
    poll_s: float = Field(default=0.5, gt=0)

    def timing(self) -> Timing:
        return Timing(
            QuietHours(self.quiet_start, self.quiet_end, ZoneInfo(self.quiet_zone)),
            RetryPolicy(
                self.max_attempts,
                timedelta(seconds=self.retry_first_delay_s),
                timedelta(seconds=self.retry_max_delay_s),
            ),
            RateLimit(self.rate_messages, timedelta(seconds=self.rate_window_s)),
        )


def create_app() -> tuple[FastAPI, Settings]:
    settings = bootstrap_settings("notification")
    own = NotificationSettings()
    runtime = Runtime(settings)
    consumer = runtime.consumer()
    channels: list[Channel] = [
        TencentSms(SmsSettings()),
        WeChatTemplateMessages(WeChatSettings()),
        SmtpEmail(EmailSettings()),
    ]
    credentials = ServiceTokenClient.for_service(own.token_url, settings.service_name)
    contacts = IntakeContacts(own.intake_url, credentials)
    staff = StaffContacts(own.identity_url, credentials)
    key = own.survey_key.get_secret_value()
    links = SurveyLinks(key.encode(), timedelta(seconds=own.survey_lifetime_s)) if key else None
    register_handlers(consumer, rule_book(), links)
    if links is None:
        log.warning("survey key not configured: closures' surveys are dead-lettered until set")

    def survey_link(variables: Mapping[str, Any]) -> str:
        assert links is not None  # survey messages exist only when links are configured
        token = links.token(uuid.UUID(variables["survey_id"]), int(variables["survey_expires"]))
        return f"{own.public_url}/survey/{token}"

    book = rule_book()
    reminders = SessionReminders(
        runtime,
        book,
        ReminderTime(own.reminder_at, ZoneInfo(own.reminder_zone)),
        poll_s=own.reminder_poll_s,
    )
    background = [("session-reminders", reminders.run)]
    for channel in channels:
        if channel.missing:
            # Its messages are recorded and wait (GET /api/v1/channels shows them).
            log.warning(
                "channel not configured: its messages wait",
                channel=channel.name,
                missing=channel.missing,
            )
            continue
        sender = ChannelSender(
            runtime,
            channel,
            contacts,
            own.timing(),
            workers=own.workers_per_channel,
            poll_s=own.poll_s,
            survey_link=survey_link if links else None,
            openid_ref=links.openid_ref if links else None,
            staff=staff,
        )
        background.append((f"sender-{channel.name}", sender.run))
    app = create_service_app(
        runtime,
        title="维权 · 通知服务 (notification)",
        description="按规则向职工发送短信、微信与邮件通知：受理编号、分流去向；"
        "向调解员、律师发送指派通知、明日调解提醒与期限预警；"
        "每条通知只发一次，夜间不发短信，发送记录可按案件查询。",
        migrations=Path(__file__).parent / "migrations",
        routers=[
            *build_routers(runtime.pool, channels),
            *build_survey_routers(runtime, lambda: links),
            build_wechat_reply_router(runtime, lambda: links),
        ],
        consumer=consumer,
        publishes_events=True,
        background=background,
        field_labels=field_labels(WeChatReplyIn),
    )
    return app, settings
