"""The sender: claims due messages of one channel, sends them, records the answer.

Each message is handled in one transaction of its own, never a consumer's:

1. ``SELECT … FOR UPDATE SKIP LOCKED`` claims one due message of the channel (another
   worker or instance skips it; the lock is the lease, and it ends with the connection);
2. quiet hours or the recipient's rate limit move it later (``due_at``) and that is all;
3. otherwise the recipient's contact is asked of intake, the message goes to the provider,
   and the provider's answer is recorded (sent, failed, or due again after a backoff)
   with its ``notification.sent`` / ``notification.failed`` event, in the same transaction.

A crash (kill -9) before the provider accepted leaves the row pending and unlocked: it is
sent once, later. A crash after the provider accepted and before the commit does the same,
and that message goes out twice: the one window left (see the README). Each channel has
its own workers, so a slow or failing provider holds back only its own channel.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from notification.channels.base import (
    Channel,
    Delivery,
    PermanentFailure,
    Sent,
    TransientFailure,
)
from notification.contacts import CaseContacts, ContactNotFound, IntakeContacts, StaffContacts
from notification.letter import PDF_LETTERS, render_pdf
from notification.rules import (
    STAFF_KINDS,
    SURVEY_TEMPLATES,
    placeholders,
    render,
    wechat_fields,
)
from notification.timing import QuietHours, RateLimit, RetryPolicy
from weiquan_shared.db import DATABASE_UNAVAILABLE
from weiquan_shared.envelope import Actor
from weiquan_shared.events import NotificationFailed, NotificationSent
from weiquan_shared.logging import get_logger
from weiquan_shared.pii import mask_mobile
from weiquan_shared.service import Runtime

log = get_logger(__name__)

# In order per recipient and channel (migration 0008): not while an earlier message of the
# same recipient and channel is pending, whether another sender holds it or it waits.
_CLAIM = """
SELECT * FROM messages m
WHERE status = 'pending' AND channel = $1 AND due_at <= $2
AND NOT EXISTS (
    SELECT FROM messages earlier
    WHERE earlier.status = 'pending' AND earlier.recipient_ref = m.recipient_ref
    AND earlier.channel = m.channel AND earlier.seq < m.seq
)
ORDER BY due_at, seq
LIMIT 1
FOR UPDATE SKIP LOCKED
"""
_RECENT = """
SELECT count(*) AS n, min(sent_at) AS oldest FROM messages
WHERE status = 'sent' AND recipient_ref = $1 AND channel = $2 AND sent_at > $3
"""


@dataclass(frozen=True)
class Timing:
    quiet_hours: QuietHours
    retry: RetryPolicy
    rate: RateLimit


def mask_address(channel: str, address: str) -> str:
    if channel == "sms":
        return mask_mobile(address)
    if channel == "email":
        name, _, domain = address.partition("@")
        return f"{name[:1]}***@{domain}"
    return f"{address[:2]}***{address[-4:]}" if len(address) > 6 else "***"


# How far an idle sender's wait grows, in multiples of its poll_s.
IDLE_BACKOFF = 4


class ChannelSender:
    def __init__(
        self,
        runtime: Runtime,
        channel: Channel,
        contacts: IntakeContacts,
        timing: Timing,
        *,
        workers: int = 2,
        poll_s: float = 0.5,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        survey_link: Callable[[Mapping[str, Any]], str] | None = None,
        openid_ref: Callable[[str], bytes] | None = None,
        staff: StaffContacts | None = None,
    ) -> None:
        self.runtime = runtime
        self.channel = channel
        self.contacts = contacts
        self.timing = timing
        self.workers = workers
        self.poll_s = poll_s
        self.clock = clock
        # Makes a survey message's link from its variables (survey id, expiry) at send time.
        self.survey_link = survey_link
        # A keyed hash of an OpenID: kept with a survey sent by WeChat, so that the worker's
        # reply to the official account finds it (the OpenID itself is not kept).
        self.openid_ref = openid_ref
        # Mediators' and lawyers' work addresses (identity).
        self.staff = staff
        self.actor = Actor.system(runtime.settings.service_name)

    async def run(self) -> None:
        await asyncio.gather(*(self._work(n) for n in range(self.workers)))

    async def _work(self, worker: int) -> None:
        # Polls every poll_s while messages come; with none due, the wait doubles up to
        # IDLE_BACKOFF times poll_s (2 s by default), so an idle channel's workers do not
        # query the database several times a second.
        wait_s = self.poll_s
        while True:
            try:
                busy = await self.step()
            except DATABASE_UNAVAILABLE as exc:
                log.warning(
                    "sender: database unavailable",
                    channel=self.channel.name,
                    error=type(exc).__name__,
                )
                busy = False
            except Exception:
                log.exception("sender step failed", channel=self.channel.name, worker=worker)
                busy = False
            if busy:
                wait_s = self.poll_s
            else:
                await asyncio.sleep(wait_s)
                wait_s = min(2 * wait_s, IDLE_BACKOFF * self.poll_s)

    async def step(self) -> bool:
        """Handle one due message of the channel; False when none is due."""
        now = self.clock()
        async with self.runtime.unit_of_work(self.actor) as uow:
            conn = uow.conn
            row = await conn.fetchrow(_CLAIM, self.channel.name, now)
            if row is None:
                return False
            later = self._held_until(row, now) or await self._rate_limited(conn, row, now)
            if later is not None:
                await conn.execute(
                    "UPDATE messages SET due_at = $2 WHERE id = $1", row["id"], later
                )
                log.info(
                    "message deferred",
                    message_id=str(row["id"]),
                    channel=row["channel"],
                    until=later.isoformat(),
                )
                return True
            attempts = row["attempts"] + 1
            masked: str | None = None
            try:
                delivery = await self._delivery(row)
                masked = mask_address(row["channel"], delivery.address)
                sent = await self.channel.send(delivery)
            except (PermanentFailure, ContactNotFound) as exc:
                reason = f"{type(exc).__name__}: {exc}"[:300]
                await self._failed(uow, row, attempts, reason, masked, now)
            except TransientFailure as exc:
                reason = str(exc)[:300]
                if self.timing.retry.exhausted(attempts):
                    await self._failed(
                        uow, row, attempts, f"retries exhausted: {reason}"[:300], masked, now
                    )
                else:
                    due = now + self.timing.retry.delay(attempts)
                    await conn.execute(
                        "UPDATE messages SET attempts = $2, due_at = $3, last_error = $4, "
                        "recipient_masked = coalesce($5, recipient_masked) WHERE id = $1",
                        row["id"],
                        attempts,
                        due,
                        reason,
                        masked,
                    )
                    log.warning(
                        "send failed, retrying later",
                        message_id=str(row["id"]),
                        channel=row["channel"],
                        attempts=attempts,
                        error=reason,
                    )
            except Exception as exc:  # a fault of ours or the SDK's: retried like an outage
                reason = f"unexpected {type(exc).__name__}"
                log.exception("send raised", message_id=str(row["id"]), channel=row["channel"])
                due = now + self.timing.retry.delay(attempts)
                await conn.execute(
                    "UPDATE messages SET attempts = $2, due_at = $3, last_error = $4 WHERE id = $1",
                    row["id"],
                    attempts,
                    due,
                    reason,
                )
            else:
                await self._sent(uow, row, attempts, sent, masked, now)
                if (
                    row["channel"] == "wechat"
                    and row["template_id"] in SURVEY_TEMPLATES
                    and self.openid_ref is not None
                ):
                    await conn.execute(
                        "UPDATE surveys SET wechat_ref = $2 WHERE id = $1",
                        uuid.UUID(row["variables"]["survey_id"]),
                        self.openid_ref(delivery.address),
                    )
            return True

    def _held_until(self, row: Any, now: datetime) -> datetime | None:
        if not row["quiet_hours"]:
            return None
        return self.timing.quiet_hours.next_allowed(now)

    async def _rate_limited(
        self, conn: asyncpg.Connection, row: Any, now: datetime
    ) -> datetime | None:
        rate = self.timing.rate
        recent = await conn.fetchrow(
            _RECENT, row["recipient_ref"], row["channel"], now - rate.window
        )
        return rate.next_allowed(recent["n"], recent["oldest"])

    async def _delivery(self, row: Any) -> Delivery:
        if row["recipient_kind"] in STAFF_KINDS:
            address = await self._staff_address(row)
        else:
            contacts = await self.contacts.for_case(row["case_number"], row["template_id"])
            address = _address(row, contacts)
        variables = row["variables"]
        if row["template_id"] in SURVEY_TEMPLATES:
            if self.survey_link is None:
                raise PermanentFailure("survey links are not configured (no signing key)")
            variables = {**variables, "link": self.survey_link(variables)}
        text = render(row["template_id"], variables)
        attachments = []
        if (filename := PDF_LETTERS.get(row["template_id"])) is not None:
            # The letter as a PDF of the same text (WeasyPrint: CPU-bound, in a thread).
            attachments.append((filename, await asyncio.to_thread(render_pdf, text)))
        subject = ""
        if row["channel"] == "email":  # an email template's first line is its subject
            subject, _, body = text.partition("\n")
            text = body.strip()
        return Delivery(
            message_id=row["id"],
            template_id=row["template_id"],
            address=address,
            text=text,
            params=[variables[name] for name in placeholders(row["template_id"])],
            fields=wechat_fields(text) if row["channel"] == "wechat" else {},
            subject=subject,
            attachments=attachments,
        )

    async def _staff_address(self, row: Any) -> str:
        """A mediator's or lawyer's work email or mobile, asked of identity now."""
        if self.staff is None:
            raise TransientFailure("staff contacts (identity) are not configured")
        found = await self.staff.for_staff(row["recipient_ref"], row["template_id"])
        address = found.email if row["channel"] == "email" else found.mobile
        if row["channel"] not in ("email", "sms") or not address:
            raise PermanentFailure(
                f"identity has no work {row['channel']} address for this {row['recipient_kind']}"
            )
        return address

    async def _sent(
        self, uow: Any, row: Any, attempts: int, sent: Sent, masked: str | None, now: datetime
    ) -> None:
        await uow.conn.execute(
            "UPDATE messages SET status = 'sent', attempts = $2, sent_at = $3, provider_ref = $4, "
            "recipient_masked = $5, last_error = NULL WHERE id = $1",
            row["id"],
            attempts,
            now,
            sent.provider_ref,
            masked,
        )
        uow.emit(
            NotificationSent(
                **_message_fields(row, attempts),
                provider_ref=sent.provider_ref,
                sent_at=now,
            ),
            subject=_subject(row),
        )
        log.info(
            "message sent",
            message_id=str(row["id"]),
            channel=row["channel"],
            template=row["template_id"],
            attempts=attempts,
        )

    async def _failed(
        self, uow: Any, row: Any, attempts: int, reason: str, masked: str | None, now: datetime
    ) -> None:
        await uow.conn.execute(
            "UPDATE messages SET status = 'failed', attempts = $2, failed_at = $3, "
            "last_error = $4, recipient_masked = coalesce($5, recipient_masked) WHERE id = $1",
            row["id"],
            attempts,
            now,
            reason,
            masked,
        )
        uow.emit(
            NotificationFailed(
                **_message_fields(row, attempts),
                reason=reason,
                failed_at=now,
            ),
            subject=_subject(row),
        )
        log.warning(
            "message failed",
            message_id=str(row["id"]),
            channel=row["channel"],
            attempts=attempts,
            reason=reason,
        )


def _subject(row: Any) -> str:
    return str(row["case_id"] or row["id"])


def _address(row: Any, contacts: CaseContacts) -> str:
    channel = row["channel"]
    if row["recipient_kind"] == "employer":
        employer = contacts.employer
        address = (
            {"sms": employer.mobile, "email": employer.email}.get(channel) if employer else None
        )
        if not address:
            raise PermanentFailure(f"intake holds no employer {channel} contact for the case")
        return address
    if channel == "sms":
        mobile = contacts.mobiles.get(row["worker_position"])
        if mobile is None:
            raise PermanentFailure(f"intake has no worker {row['worker_position']} on the case")
        return mobile
    if channel == "wechat":
        if not contacts.wechat_openid:
            raise PermanentFailure("the case has no WeChat OpenID")
        return contacts.wechat_openid
    raise PermanentFailure(f"no {channel} address is known for a {row['recipient_kind']}")


def _message_fields(row: Any, attempts: int) -> dict[str, Any]:
    """What ``notification.sent`` and ``notification.failed`` both say of a message."""
    return {
        "message_id": row["id"],
        "case_id": row["case_id"],
        "case_number": row["case_number"],
        "district_code": row["district_code"],
        "caused_by_event_id": row["event_id"],
        "caused_by_event_type": row["event_type"],
        "template_id": row["template_id"],
        "channel": row["channel"],
        "recipient_kind": row["recipient_kind"],
        "recipient_ref": row["recipient_ref"],
        "attempts": attempts,
    }
