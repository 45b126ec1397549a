import os

import pytest
from cryptography.exceptions import InvalidTag

from weiquan_shared.pii import PiiCipher, mask_id_number, mask_mobile, mask_name


def cipher(active: str = "k1", keys: dict[str, bytes] | None = None) -> PiiCipher:
    keys = keys or {"k1": b"1" * 32}
    return PiiCipher(keys, active, b"i" * 32)


def test_encrypts_with_fresh_nonce_and_decrypts() -> None:
    c = cipher()
    a = c.encrypt("13912345678", "workers.mobile:1")
    b = c.encrypt("13912345678", "workers.mobile:1")
    assert a != b
    assert b"13912345678" not in a
    assert c.decrypt(a, "workers.mobile:1") == "13912345678"


def test_ciphertext_moved_to_another_row_does_not_decrypt() -> None:
    c = cipher()
    stored = c.encrypt("王建国", "workers.name:1")
    with pytest.raises(InvalidTag):
        c.decrypt(stored, "workers.name:2")


def test_rotation_keeps_old_values_readable() -> None:
    old = cipher()
    stored = old.encrypt("王建国", "ctx")
    rotated = cipher("k2", {"k1": b"1" * 32, "k2": os.urandom(32)})
    assert rotated.decrypt(stored, "ctx") == "王建国"
    assert rotated.encrypt("王建国", "ctx").startswith(b"k2:")


def test_blind_index_is_stable_keyed_and_purpose_bound() -> None:
    c = cipher()
    assert c.blind_index("13912345678", "mobile") == c.blind_index(" 13912345678 ", "mobile")
    assert c.blind_index("13912345678", "mobile") != c.blind_index("13912345678", "worker")
    other = PiiCipher({"k1": b"1" * 32}, "k1", b"j" * 32)
    assert other.blind_index("13912345678", "mobile") != c.blind_index("13912345678", "mobile")


def test_masks() -> None:
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳修文") == "欧**文"
    assert mask_mobile("13812345678") == "138****5678"
    assert mask_id_number("11010519491231002X") == "110105********002X"
