from pydantic import BaseModel, Field

from weiquan_shared.http import describe_error, field_labels


class Inner(BaseModel):
    mobile: str = Field(title="手机号")


class Outer(BaseModel):
    workers: list[Inner] = Field(title="职工")
    inner: Inner | None = None


def test_labels_cover_nested_and_listed_models() -> None:
    assert field_labels(Outer) == {
        "workers": "职工",
        "workers.mobile": "手机号",
        "inner.mobile": "手机号",
    }


def test_error_names_the_field_in_chinese() -> None:
    labels = field_labels(Outer)
    error = {"loc": ("body", "workers", 0, "mobile"), "type": "string_pattern_mismatch"}
    assert describe_error(error, labels) == {
        "field": "workers.mobile",
        "path": "workers.0.mobile",
        "label": "手机号",
        "message": "手机号：格式不正确",
    }


def test_validator_messages_pass_through_without_pydantic_prefix() -> None:
    error = {"loc": ("body", "x"), "type": "value_error", "msg": "Value error, 校验码不正确"}
    assert describe_error(error, {})["message"] == "x：校验码不正确"
