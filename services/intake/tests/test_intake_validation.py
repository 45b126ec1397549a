"""Validation answers 422 in Chinese before anything reaches the store (no database needed)."""

import os
import random

import pytest
from fastapi.testclient import TestClient

from tests.support.tokens import test_issuer
from weiquan_shared.auth import Role, install_token_verifier
from weiquan_shared.demo import hotline_call, walk_in_group


@pytest.fixture(scope="module")
def client() -> TestClient:
    os.environ.setdefault("WEIQUAN_PII_KEYS", '{"k1": "' + "a" * 43 + '="}')
    os.environ.setdefault("WEIQUAN_PII_ACTIVE_KEY_ID", "k1")
    os.environ.setdefault("WEIQUAN_PII_INDEX_KEY", "b" * 43 + "=")
    from intake.app import create_app

    app, _ = create_app()
    issuer = test_issuer()
    install_token_verifier(app, issuer.verifier())
    # no `with`: the lifespan (database, Kafka) never starts
    return TestClient(app, headers=issuer.headers(Role.OPERATOR))


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
        (lambda c: c.pop("demands"), "demands", "诉求事项：必须填写"),
        (
            lambda c: c["consent"].update(agreed=False),
            "consent.agreed",
            "职工同意：须经职工同意处理个人信息后才能登记；不同意的可按咨询登记",
        ),
        (
            lambda c: c["workers"][0].update(mobile="14012345678"),
            "workers.mobile",
            "手机号：不是在用的中国大陆手机号段，请核对",
        ),
        (
            lambda c: c["employer"].update(district_code="44"),
            "employer.district_code",
            "所在区县代码：格式不正确",
        ),
        (
            lambda c: c["employer"].update(district_code="000000"),
            "employer.district_code",
            "所在区县代码：区县代码 000000 不在本市区县表中",
        ),
        (
            lambda c: c["workers"][0].update(id_number="00000019900101123X"),
            "workers.id_number",
            "身份证号：前6位地址码不是有效的省级行政区划代码，请核对",
        ),
    ],
)
def test_bad_field_is_named_in_chinese(client: TestClient, change, field, message) -> None:
    call = hotline_call(random.Random(11))
    change(call)
    response = client.post("/api/v1/hotline-calls", json=call)
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["field"] == field
    assert body["errors"][0]["message"].startswith(message)
    assert message in body["message"]


def test_each_error_names_the_row_of_a_group(client: TestClient) -> None:
    group = walk_in_group(random.Random(12), workers=12)
    group["workers"][7]["id_number"] = "110105194912310021"
    response = client.post("/api/v1/walk-in-registrations", json=group)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["path"] == "workers.7.id_number"
    assert error["message"] == "身份证号：校验码不正确，请核对"


def test_unknown_address_answers_in_chinese(client: TestClient) -> None:
    response = client.get("/api/v1/nowhere")
    assert response.status_code == 404
    assert "没有这个地址" in response.json()["message"]


def test_pages_are_chinese_and_keyboard_first(client: TestClient) -> None:
    for path, role in (("/operator", Role.OPERATOR), ("/walk-in", Role.WALK_IN_CLERK)):
        html = client.get(path, headers=test_issuer().headers(role)).text
        assert '<html lang="zh-CN">' in html and "autofocus" in html
        assert 'data-error-for="workers.0.mobile"' in html
    assert client.get("/static/intake.js").headers["content-type"].startswith("text/javascript")


def test_openapi_documents_the_call_with_chinese_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/api/v1/hotline-calls"]["post"]
    assert operation["summary"] == "登记12351热线来电"
    schema = spec["components"]["schemas"]["HotlineCallIn"]
    assert schema["properties"]["description"]["examples"][0].startswith("公司拖欠")
    for path, methods in spec["paths"].items():
        if not path.startswith(("/api/", "/wechat/")):
            continue
        for method, operation in methods.items():
            text = operation["summary"] + operation.get("description", "")
            assert "示例" in text, f"{method.upper()} {path} has no Chinese example"
