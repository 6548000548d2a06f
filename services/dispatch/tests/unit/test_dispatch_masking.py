"""What a crew's phone shows of a customer before the order is in its hand."""

import pytest

from brightline.dispatch.api.mobile import mask_phone


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+8613812345678", "+86*******5678"),
        ("0571-87654321", "057******4321"),
        # A landline without its area code: 3 + 4 shown of 7 was the whole number.
        ("8765432", "*****32"),
        ("87654321", "******21"),
        ("12345", "*****"),
        ("", ""),
        (None, None),
    ],
)
def test_a_number_shorter_than_a_mobile_keeps_only_its_last_two(phone, masked):
    assert mask_phone(phone) == masked
    if phone and len(phone) >= 4:
        assert masked.count("*") >= 4
