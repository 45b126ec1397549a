import json
import logging

from weiquan_shared.logging import configure_logging, get_logger, mask_personal_data


def test_processor_blanks_personal_keys_and_scrubs_strings() -> None:
    event = mask_personal_data(
        None, "info", {"event": "called by 13912345678", "mobile": "13912345678", "n": 3}
    )
    assert event == {"event": "called by [手机号已隐去]", "mobile": "***", "n": 3}


def test_json_lines_never_carry_personal_data(capsys) -> None:
    configure_logging("unit", "INFO")
    get_logger("t").info("worker called", name="王建国", note="身份证11010519491231002X")
    logging.getLogger("third.party").warning("phone 13800138000 in a library message")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    text = json.dumps(lines, ensure_ascii=False)
    assert "王建国" not in text and "11010519491231002X" not in text
    assert "13800138000" not in text
    assert lines[0]["service"] == "unit" and lines[0]["name"] == "***"
