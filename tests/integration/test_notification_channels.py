"""Each channel over its real protocol: SMTP to an aiosmtpd process, Tencent Cloud's SDK to
a server checking the TC3 signature as the provider does, WeChat's API with its token."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from pydantic import SecretStr

from notification.channels.base import Delivery, PermanentFailure, TransientFailure
from notification.channels.email import EmailSettings, SmtpEmail
from notification.channels.sms import SmsSettings, TencentSms
from notification.channels.wechat import WeChatSettings, WeChatTemplateMessages
from notification.rules import placeholders, render, wechat_fields
from tests.support.notification_providers import (
    TencentSmsServer,
    WeChatServer,
    running,
    smtp_server,
)

NUMBER = "440305-2026-000042"


def sms_server() -> TencentSmsServer:
    return TencentSmsServer(
        secret_id="AKIDtest",
        secret_key="test-secret-key",
        sdk_app_id="1400000001",
        sign_name="深圳市总工会",
        templates={"2001": 1},
    )


def sms_channel(server: TencentSmsServer, **overrides: object) -> TencentSms:
    settings = SmsSettings(
        secret_id="AKIDtest",
        secret_key=SecretStr("test-secret-key"),
        sdk_app_id="1400000001",
        endpoint=server.endpoint,
        scheme="http",
        timeout_s=5,
        template_ids={"sms/case_accepted": "2001"},
    )
    return TencentSms(settings.model_copy(update=overrides))


def accepted_sms(mobile: str) -> Delivery:
    variables = {"case_number": NUMBER}
    return Delivery(
        message_id=uuid.uuid4(),
        template_id="sms/case_accepted",
        address=mobile,
        text=render("sms/case_accepted", variables),
        params=[variables[n] for n in placeholders("sms/case_accepted")],
    )


async def test_sms_goes_through_tencents_sdk_signed_and_as_the_provider_expects() -> None:
    with running(sms_server()) as server:
        channel = sms_channel(server)
        delivery = accepted_sms("13800138000")
        sent = await channel.send(delivery)
        assert [s.phone for s in server.sent] == ["+8613800138000"]
        got = server.sent[0]
        assert sent.provider_ref == got.serial_no
        assert got.params == [NUMBER] and got.template_id == "2001"
        assert got.sign_name == "深圳市总工会"
        assert got.session_context == str(delivery.message_id)


async def test_sms_error_codes_a_wrong_number_is_permanent_a_bad_signature_transient() -> None:
    with running(sms_server()) as server:
        with pytest.raises(PermanentFailure, match="IncorrectPhoneNumber"):
            await sms_channel(server).send(accepted_sms("12345"))
        server.failing_numbers["+8613900139000"] = "FailedOperation.PhoneNumberInBlacklist"
        with pytest.raises(PermanentFailure, match="Blacklist"):
            await sms_channel(server).send(accepted_sms("13900139000"))
        forged = sms_channel(server, secret_key=SecretStr("not-the-key"))
        with pytest.raises(TransientFailure, match=r"AuthFailure\.SignatureFailure"):
            await forged.send(accepted_sms("13800138000"))
        assert server.sent == []
        assert server.refused == ["AuthFailure.SignatureFailure"]


async def test_sms_without_an_approved_template_id_is_not_sent() -> None:
    with running(sms_server()) as server:
        channel = sms_channel(server, template_ids={})
        assert channel.missing == ["WEIQUAN_NOTIFICATION_SMS_TEMPLATE_IDS"]
        with pytest.raises(TransientFailure):
            await channel.send(accepted_sms("13800138000"))
        assert server.sent == []


def wechat_delivery(openid: str) -> Delivery:
    text = render("wechat/case_accepted", {"case_number": NUMBER})
    return Delivery(
        message_id=uuid.uuid4(),
        template_id="wechat/case_accepted",
        address=openid,
        text=text,
        fields=wechat_fields(text),
    )


async def test_wechat_caches_its_token_and_refreshes_it_on_40001_then_sends_once() -> None:
    server = WeChatServer(app_id="wx123", app_secret="s3cret", templates={"TPL-ACCEPTED"})
    with running(server):
        channel = WeChatTemplateMessages(
            WeChatSettings(
                app_id="wx123",
                app_secret=SecretStr("s3cret"),
                api_base=server.url,
                template_ids={"wechat/case_accepted": "TPL-ACCEPTED"},
            )
        )
        try:
            first = await channel.send(wechat_delivery("o-worker-1"))
            await channel.send(wechat_delivery("o-worker-2"))
            assert server.tokens_issued == 1  # cached between sends
            server.rotate_token()
            await channel.send(wechat_delivery("o-worker-3"))
            assert server.errcodes == [40001]
            assert server.tokens_issued == 2
            assert [s.openid for s in server.sent] == ["o-worker-1", "o-worker-2", "o-worker-3"]
            assert server.sent[0].data["keyword1"] == NUMBER
            assert first.provider_ref == str(server.sent[0].msgid)
            server.not_following.add("o-gone")
            with pytest.raises(PermanentFailure, match="43004"):
                await channel.send(wechat_delivery("o-gone"))
        finally:
            await channel.aclose()


async def test_wechat_with_a_wrong_secret_is_transient_and_sends_nothing() -> None:
    server = WeChatServer(app_id="wx123", app_secret="s3cret", templates={"TPL-ACCEPTED"})
    with running(server):
        channel = WeChatTemplateMessages(
            WeChatSettings(
                app_id="wx123",
                app_secret=SecretStr("wrong"),
                api_base=server.url,
                template_ids={"wechat/case_accepted": "TPL-ACCEPTED"},
            )
        )
        try:
            with pytest.raises(TransientFailure, match="40125"):
                await channel.send(wechat_delivery("o-worker-1"))
            assert server.sent == []
        finally:
            await channel.aclose()


async def test_email_is_delivered_by_a_real_smtp_server_in_chinese(tmp_path: Path) -> None:
    with smtp_server(tmp_path) as smtp:
        channel = SmtpEmail(
            EmailSettings(host=smtp.host, port=smtp.port, sender="weiquan@union.example.cn")
        )
        assert channel.missing == []
        delivery = Delivery(
            message_id=uuid.uuid4(),
            template_id="email/test",
            address="mediator@court.example.cn",
            text=f"案件 {NUMBER} 已分配给您，请及时联系职工。",
            subject=f"新案件：{NUMBER}",
        )
        sent = await channel.send(delivery)
        [message] = smtp.messages()
        assert message["To"] == "mediator@court.example.cn"
        assert message["Subject"] == f"新案件：{NUMBER}"
        assert "工会维权服务" in message["From"]
        assert message["Message-ID"] == sent.provider_ref
        assert delivery.message_id.hex in message["Message-ID"]
        body = message.get_body()
        assert body is not None and f"案件 {NUMBER} 已分配给您" in body.get_content()


async def test_email_to_an_unreachable_server_is_transient() -> None:
    channel = SmtpEmail(EmailSettings(host="127.0.0.1", port=1, sender="a@b.cn", timeout_s=2))
    with pytest.raises(TransientFailure):
        await channel.send(Delivery(uuid.uuid4(), "email/test", "x@y.cn", "测试", subject="测试"))
