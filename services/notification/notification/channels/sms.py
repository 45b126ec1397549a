"""SMS through Tencent Cloud's official SDK (``tencentcloud-sdk-python-sms``, SendSms 2021-01-11).

The SDK signs each request (TC3-HMAC-SHA256) and is synchronous (``requests``): a send
runs in a thread, so the event loop carries on. The endpoint is configurable (a local
server in tests, a private endpoint in production). The text itself is the template
registered and approved at the provider; we send its id and the values of its variables
in order, and the provider puts the signature 【…】 in front.

Idempotency: SendSms has none. ``SessionContext`` is only echoed back in the answer and
``ExtendCode`` is a sub-number for replies; neither makes the provider drop a repeated
request. We send the message id as ``SessionContext`` so a provider-side record can be
matched to ours by hand.
"""

from __future__ import annotations

import asyncio

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

from notification.channels.base import Delivery, PermanentFailure, Sent, TransientFailure

# Answers that concern the recipient, not the provider's state: trying again cannot help.
PERMANENT_CODES = (
    "InvalidParameterValue.IncorrectPhoneNumber",
    "FailedOperation.PhoneNumberInBlacklist",
    "FailedOperation.PhoneNumberParseFail",
    "UnsupportedOperation.UnsupportedRegion",
    "FailedOperation.ContainSensitiveWord",
)


class SmsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WEIQUAN_NOTIFICATION_SMS_", extra="ignore")

    secret_id: str = ""
    secret_key: SecretStr = SecretStr("")
    sdk_app_id: str = ""
    # The signature approved at the provider, shown as 【…】 before every message.
    signature: str = "深圳市总工会"
    region: str = "ap-guangzhou"
    endpoint: str = "sms.tencentcloudapi.com"
    scheme: str = Field(default="https", pattern=r"^https?$")
    timeout_s: int = Field(default=10, ge=1)
    # Our template id -> the provider's approved template id, e.g.
    # {"sms/case_accepted": "1834561"}.
    template_ids: dict[str, str] = Field(default_factory=dict)


class TencentSms:
    name = "sms"

    def __init__(self, settings: SmsSettings) -> None:
        self.settings = settings
        self._client: sms_client.SmsClient | None = None

    @property
    def missing(self) -> list[str]:
        s = self.settings
        needed = {
            "WEIQUAN_NOTIFICATION_SMS_SECRET_ID": s.secret_id,
            "WEIQUAN_NOTIFICATION_SMS_SECRET_KEY": s.secret_key.get_secret_value(),
            "WEIQUAN_NOTIFICATION_SMS_SDK_APP_ID": s.sdk_app_id,
            "WEIQUAN_NOTIFICATION_SMS_TEMPLATE_IDS": "x" if s.template_ids else "",
        }
        return [name for name, value in needed.items() if not value]

    def client(self) -> sms_client.SmsClient:
        if self._client is None:
            s = self.settings
            http = HttpProfile(
                protocol=s.scheme, endpoint=s.endpoint, reqTimeout=s.timeout_s, keepAlive=True
            )
            self._client = sms_client.SmsClient(
                credential.Credential(s.secret_id, s.secret_key.get_secret_value()),
                s.region,
                ClientProfile(httpProfile=http),
            )
        return self._client

    async def send(self, delivery: Delivery) -> Sent:
        provider_template = self.settings.template_ids.get(delivery.template_id)
        if provider_template is None:
            raise TransientFailure(f"no provider template id for {delivery.template_id}")
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [_e164(delivery.address)]
        request.SmsSdkAppId = self.settings.sdk_app_id
        request.SignName = self.settings.signature
        request.TemplateId = provider_template
        request.TemplateParamSet = delivery.params
        request.SessionContext = str(delivery.message_id)
        try:
            response = await asyncio.to_thread(self.client().SendSms, request)
        except TencentCloudSDKException as exc:
            # Request-level errors (signature, throttling, timeouts): the provider's state.
            raise TransientFailure(f"{exc.code}: {exc.message}"[:300]) from exc
        statuses = response.SendStatusSet or []
        if not statuses:
            raise TransientFailure("SendSms answered without a status")
        status = statuses[0]
        if status.Code == "Ok":
            return Sent(status.SerialNo)
        reason = f"{status.Code}: {status.Message}"[:300]
        if status.Code in PERMANENT_CODES:
            raise PermanentFailure(reason)
        raise TransientFailure(reason)


def _e164(mobile: str) -> str:
    digits = mobile.strip().replace(" ", "").replace("-", "")
    return digits if digits.startswith("+") else f"+86{digits}"
