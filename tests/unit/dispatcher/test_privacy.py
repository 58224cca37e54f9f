"""Personal data: AES-GCM encryption of stored values, masking for views, redaction of logs."""

from __future__ import annotations

import io
import logging
import re

import pytest

from dispatcher.access import privacy
from dispatcher.access.accounts import Principal
from dispatcher.access.privacy import (
    RedactPhones,
    install_log_redaction,
    mask_name,
    mask_phone,
    present_reporter,
    redact,
)
from dispatcher.access.roles import Role
from dispatcher.store import cipher
from dispatcher.store.cipher import PiiKeyError, decrypt, encrypt

FULL_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


@pytest.fixture(autouse=True)
def _test_key(monkeypatch):
    monkeypatch.setattr(cipher, "_installed", cipher._installed)  # the process's key comes back after each test
    cipher.install_key("unit-test-pii-key")


def principal(role: Role) -> Principal:
    return Principal("a1", "someone", role, "330199", None)


# --- encryption ---------------------------------------------------------------------------------------


def test_round_trip_and_none():
    for plain in ["13812345678", "王小明", "", "+86 138-1234-5678", "x" * 500]:
        stored = encrypt(plain)
        assert stored.startswith("v1:") and plain not in stored[3:] or plain == ""
        assert decrypt(stored) == plain
    assert encrypt(None) is None and decrypt(None) is None


def test_every_encryption_uses_a_fresh_nonce():
    assert encrypt("13812345678") != encrypt("13812345678")


def test_wrong_key_or_tampering_is_refused_not_garbled():
    stored = encrypt("13812345678")
    cipher.install_key("another key")
    with pytest.raises(PiiKeyError):
        decrypt(stored)
    cipher.install_key("unit-test-pii-key")
    body = bytearray(stored.encode())
    body[-3] = ord("A") if body[-3] != ord("A") else ord("B")
    with pytest.raises(PiiKeyError):
        decrypt(body.decode())


def test_values_written_before_encryption_are_read_unchanged():
    assert decrypt("13812345678") == "13812345678"


def test_no_key_installed_is_an_error_not_a_default_key(monkeypatch):
    monkeypatch.setattr(cipher, "_installed", None)
    with pytest.raises(cipher.KeyNotInstalled):
        encrypt("13812345678")
    with pytest.raises(cipher.KeyNotInstalled):
        cipher.lookup_hash("13812345678")


def test_empty_key_is_refused():
    with pytest.raises(ValueError):
        cipher.install_key("")


def test_encrypted_text_type_binds_ciphertext():
    from dispatcher.store.columns import EncryptedText

    column_type = EncryptedText()
    stored = column_type.process_bind_param("13812345678", None)
    assert stored.startswith("v1:") and "13812345678" not in stored
    assert column_type.process_result_value(stored, None) == "13812345678"
    assert column_type.process_bind_param(None, None) is None


# --- masking ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone, masked",
    [
        ("13812345678", "138****5678"),
        ("+86 138-1234-5678", "138****5678"),
        ("8613812345678", "138****5678"),
        ("0571-87654321", "********4321"),
        ("12345", "*2345"),
        ("110", "****"),
        ("", "****"),
        (None, None),
    ],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    "name, masked", [("王小明", "王**"), ("李四", "李*"), ("王", "*"), ("欧阳娜娜", "欧***"), ("", ""), (None, None)]
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


SNAPSHOT = {"id": "i1", "reporter_name": "王小明", "reporter_phone": "13812345678", "description": "路灯不亮"}


@pytest.mark.parametrize(
    "role",
    [Role.GRID_WORKER, Role.DEPT_HANDLER, Role.DEPT_HEAD, Role.ENFORCEMENT, Role.LEADER, Role.ADMIN, Role.AUDITOR],
)
def test_roles_without_phone_rights_see_masks(role):
    shown = present_reporter(SNAPSHOT, role)
    assert shown == {**SNAPSHOT, "reporter_name": "王**", "reporter_phone": "138****5678"}
    assert SNAPSHOT["reporter_phone"] == "13812345678"  # the input is not changed


def test_nobody_sees_masks():
    assert present_reporter(SNAPSHOT, None)["reporter_phone"] == "138****5678"


@pytest.mark.parametrize("role", [Role.HOTLINE, Role.DISPATCHER, Role.SHIFT_LEADER])
def test_phone_readers_see_numbers_and_the_unmasking_is_reported(role):
    seen = []
    shown = present_reporter(SNAPSHOT, role, on_unmask=seen.append)
    assert shown == SNAPSHOT and shown is not SNAPSHOT
    assert seen == [SNAPSHOT]


def test_snapshot_without_phone_key_stays_without_it():
    shown = present_reporter({"id": "i1", "reporter_name": "王小明"}, Role.LEADER)
    assert shown == {"id": "i1", "reporter_name": "王**"}
    seen = []
    present_reporter({"id": "i1", "reporter_name": None}, Role.DISPATCHER, on_unmask=seen.append)
    assert seen == []


# --- logs ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("caller 13812345678 says", "caller 138****5678 says"),
        ("{'reporter_phone': '15912345678'}", "{'reporter_phone': '159****5678'}"),
        ("+8613812345678", "138****5678"),
        ("138-1234-5678 / 138 1234 5678", "138****5678 / 138****5678"),
        ("tel:19900001111,17700001111", "tel:199****1111,177****1111"),
        ("order 123812345678901 and 12812345678", "order 123812345678901 and 12812345678"),  # not mobile numbers
    ],
)
def test_redact(text, expected):
    assert redact(text) == expected


# Every common way of writing a mainland mobile, a landline with its area code or an 18-digit ID number (居民身份证),
# inside the kind of sentence a report carries; each must come out masked, and nothing else changed.
NUMBERS = [
    # mobiles
    ("电话13812345678", "电话138****5678"),
    ("联系：138 1234 5678。", "联系：138****5678。"),
    ("138-1234-5678", "138****5678"),
    ("138.1234.5678", "138****5678"),
    ("138/1234/5678", "138****5678"),
    ("138_1234_5678", "138****5678"),
    ("(138)1234-5678", "(138****5678"),
    ("1381234 5678", "138****5678"),
    ("138 12345678", "138****5678"),
    ("1 3 8 1 2 3 4 5 6 7 8", "138****5678"),
    ("手机１３８１２３４５６７８", "手机138****5678"),
    ("１３８－１２３４－５６７８", "138****5678"),
    ("１３８　１２３４　５６７８", "138****5678"),
    ("1３8-１234 5678", "138****5678"),
    ("138\u200b1234\u200b5678", "138****5678"),
    ("+86 138 1234 5678", "138****5678"),
    ("+86-138-1234-5678", "138****5678"),
    ("+8613812345678", "138****5678"),
    ("＋86 13812345678", "138****5678"),
    ("(+86)13812345678", "138****5678"),
    ("（+86）138-1234-5678", "138****5678"),
    ("0086 13812345678", "138****5678"),
    ("0086-138.1234.5678", "138****5678"),
    ("8613812345678", "138****5678"),
    ("86-13812345678", "138****5678"),
    ("电话13812345678/13912345678", "电话138****5678/139****5678"),
    ("13812345678、13912345678", "138****5678、139****5678"),
    ("13812345678-2号楼", "138****5678-2号楼"),
    ("13812345678 2026-11-30", "138****5678 2026-11-30"),
    ("2026-11-30 13812345678", "2026-11-30 138****5678"),
    # landlines with an area code
    ("0571-8765 4321", "0571-****4321"),
    ("0571-87654321", "0571-****4321"),
    ("(0571) 8765-4321", "0571-****4321"),
    ("（0571）87654321", "0571-****4321"),
    ("010-62345678", "010-****5678"),
    ("020 8765 4321", "020-****4321"),
    ("0755.8765.4321", "0755-****4321"),
    ("０５７１－８７６５４３２１", "0571-****4321"),
    ("+86 571 8765 4321", "0571-****4321"),
    ("+86 (0)571 8765 4321", "0571-****4321"),
    ("0086-10-62345678", "010-****5678"),
    ("0571-87654321-801", "0571-****4321"),
    ("0571-87654321转801", "0571-****4321"),
    ("0571-8765432", "0571-****5432"),
    # ID numbers (居民身份证): 18 characters, the last a digit or X
    ("身份证330106199001011234", "身份证330***********1234"),
    ("11010519491231002X", "110***********002X"),
    ("11010519491231002x", "110***********002X"),
    ("330106 19900101 123X", "330***********123X"),
    ("3301 0619 9001 0112 3X", "330***********123X"),
    ("330106-1990-0101-1234", "330***********1234"),
    ("３３０１０６１９９００１０１１２３４", "330***********1234"),
    ("330106.19900101.123ｘ", "330***********123X"),
    # several in one text
    (
        "王五，13812345678，身份证330106199001011234，座机0571-87654321",
        "王五，138****5678，身份证330***********1234，座机0571-****4321",
    ),
]


@pytest.mark.parametrize("text, expected", NUMBERS, ids=[t for t, _ in NUMBERS])
def test_redact_masks_phone_and_id_numbers_in_every_common_form(text, expected):
    assert redact(text) == expected
    assert redact(expected) == expected  # masking again changes nothing


# What looks like a number but is none of a person's: must come out unchanged.
NOT_PERSONAL = [
    "2026-11-30",
    "2026/11/30 13:45",
    "2026-11-30T13:45:00+08:00",
    "2026年11月30日13时45分",
    "20261130",
    "13:45:20",
    "330199001002003",  # a unit grid code of the demo city (geo/democity.py: district 6 + street, community, unit 3 each)
    "网格330199001002003内",
    "330199001002003 330199001002004",  # two grid codes side by side
    "案件 3f2a1381-2345-4678-9abc-13812345678d",  # an incident id (UUID)
    "e1381234-5678-4abc-8def-0123456789ab",
    "工单号 20261130000123",
    "GC-2026-000123",
    "¥1,380.50",
    "金额13800元",
    "罚款 138,001,234.50 元",
    "12345",
    "110",
    "400-820-8820",
    "95588",
    "0571",
    "坐标 120.1551234, 30.2741234",
    "192.168.10.123",
    "180.101.49.112 - - [30/Nov/2026 13:45:00]",
    "1733112000.1",
    "took 0.3123456789 s",
    "第13、14、15号楼",
    "12812345678",
    "123812345678901",
    "10086",
]


@pytest.mark.parametrize("text", NOT_PERSONAL)
def test_redact_leaves_dates_codes_amounts_and_times_alone(text):
    assert redact(text) == text


def test_redact_passes_none_and_empty_through():
    assert redact(None) is None and redact("") == ""


def test_log_filter_redacts_message_args_and_traceback():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactPhones())
    logger = logging.getLogger("tests.privacy.filter")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("report from %s (%r)", "13812345678", {"phone": "13912345678"})
        logger.warning("plain 15012345678")
        logger.warning("caller %s, id %s", "（0571）8765 4321", "３３０１０６１９９００１０１１２３４")
        try:
            raise ValueError("bad phone 18612345678")
        except ValueError:
            logger.exception("failed for %s", "18712345678")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert not FULL_MOBILE.search(text), text
    assert "138****5678" in text and "139****5678" in text and "186****5678" in text and "Traceback" in text
    assert "0571-****4321" in text and "330***********1234" in text
    assert "8765" not in text and "３３０１０６１９９０" not in text


def test_install_log_redaction_attaches_once_to_root_handlers_and_named_loggers():
    handler = logging.StreamHandler(io.StringIO())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        first = install_log_redaction()
        second = install_log_redaction()
        assert first is second
        assert sum(isinstance(f, RedactPhones) for f in handler.filters) == 1
        for name in privacy.LOGGERS:
            assert sum(isinstance(f, RedactPhones) for f in logging.getLogger(name).filters) == 1
    finally:
        root.removeHandler(handler)
