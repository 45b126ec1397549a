"""Validation answers 422 in Chinese before anything reaches the store (no database needed)."""

import os
import random

import pytest
from fastapi.testclient import TestClient

from weiquan_shared.demo import hotline_call


@pytest.fixture(scope="module")
def client() -> TestClient:
    os.environ.setdefault("WEIQUAN_PII_KEYS", '{"k1": "' + "a" * 43 + '="}')
    os.environ.setdefault("WEIQUAN_PII_ACTIVE_KEY_ID", "k1")
    os.environ.setdefault("WEIQUAN_PII_INDEX_KEY", "b" * 43 + "=")
    from intake.app import create_app

    app, _ = create_app()
    return TestClient(app)  # no `with`: the lifespan (database, Kafka) never starts


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda c: c["workers"][0].update(mobile="1234"), "workers.mobile", "手机号：格式不正确"),
        (
            lambda c: c["workers"][0].update(id_number="110105194912310021"),
            "workers.id_number",
            "身份证号：校验码不正确，请核对",
        ),
        (lambda c: c.update(claim_amount="-5"), "claim_amount", "诉求金额（元）：不能小于0"),
        (lambda c: c.pop("call_id"), "call_id", "来电流水号：必须填写"),
        (
            lambda c: c["employer"].update(district_code="44"),
            "employer.district_code",
            "所在区县代码：格式不正确",
        ),
    ],
)
def test_bad_field_is_named_in_chinese(client: TestClient, change, field, message) -> None:
    call = hotline_call(random.Random(11))
    change(call)
    response = client.post("/api/v1/hotline-calls", json=call)
    assert response.status_code == 422
    body = response.json()
    assert {"field": field, "message": message}.items() <= body["errors"][0].items()
    assert message in body["message"]


def test_openapi_documents_the_call_with_chinese_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/api/v1/hotline-calls"]["post"]
    assert operation["summary"] == "登记12351热线来电"
    schema = spec["components"]["schemas"]["HotlineCallIn"]
    assert schema["properties"]["description"]["examples"][0].startswith("公司拖欠")
