import pytest

from credit.enterprises.uscc import InvalidUSCCError, uscc_normalise, uscc_validate, uscc_with_check_digit

VALID = "91110000600037341L"  # a published, real code (check digit L)


@pytest.mark.parametrize(
    "entered",
    [
        VALID,
        VALID.lower(),
        " 9111 0000 6000 37341L ",
        "9111\u30000000600037341l",  # full-width space typed with a Chinese input method
        "\t91110000600037341L\n",
    ],
)
def test_valid_codes_are_normalised_not_refused(entered):
    assert uscc_validate(entered) == VALID


def test_generated_check_digit_validates():
    code = uscc_with_check_digit("91210100MA0XK1234")
    assert uscc_validate(code) == code


@pytest.mark.parametrize(
    ("entered", "code"),
    [
        ("91110000600037341X", "uscc_invalid_checksum"),
        ("9111000060003734", "uscc_invalid_length"),
        ("91110000600037341LL", "uscc_invalid_length"),
        ("91110000600037341I", "uscc_invalid_format"),  # I is outside the code's alphabet
        ("9111000O600037341L", "uscc_invalid_format"),  # letter O among the first 8 digits
        ("9111000060003734?L", "uscc_invalid_format"),
        ("", "uscc_empty"),
        ("   ", "uscc_empty"),
    ],
)
def test_invalid_codes_raise_their_code(entered, code):
    with pytest.raises(InvalidUSCCError) as excinfo:
        uscc_validate(entered)
    assert excinfo.value.code == code


def test_normalise_removes_inner_spaces_and_uppercases():
    assert uscc_normalise("91 11 0000 6000 3734 1l") == VALID
