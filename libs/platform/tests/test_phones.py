"""The one spelling intake compares phone numbers in (the directory's, a caller card's)."""

import pytest

from brightline.platform.phones import normalise_phone


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("13811110002", "13811110002"),
        ("+86 138-1111-0002", "13811110002"),
        ("008613811110002", "13811110002"),
        ("8613811110002", "13811110002"),
        ("(0571) 8888-0002", "057188880002"),
        ("+86 571 8888 0002", "057188880002"),
        ("95598", "95598"),
        ("abc", None),
        ("   ", None),
        ("", None),
    ],
)
def test_one_spelling_per_number(raw, normalised):
    assert normalise_phone(raw) == normalised
