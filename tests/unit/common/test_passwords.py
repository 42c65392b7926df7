"""App passwords: random, hashed with a salt, verified only by the right password."""

from ariscale_common.passwords import generate_password, hash_password, verify_password

CHEAP = {"n": 2**4}  # keeps the unit test quick; the format records the cost used


def test_generated_passwords_are_long_and_distinct() -> None:
    passwords = {generate_password() for _ in range(50)}
    assert len(passwords) == 50
    assert all(len(p) >= 32 for p in passwords)


def test_hash_verifies_only_the_right_password() -> None:
    stored = hash_password("s3cret", **CHEAP)
    assert verify_password("s3cret", stored)
    assert not verify_password("s3cret ", stored)
    assert not verify_password("", stored)


def test_hash_is_salted_and_never_contains_the_password() -> None:
    first, second = hash_password("s3cret", **CHEAP), hash_password("s3cret", **CHEAP)
    assert first != second
    assert "s3cret" not in first
    assert first.split("$")[:4] == ["scrypt", "16", "8", "1"]


def test_default_cost_round_trips() -> None:
    assert verify_password("pw", hash_password("pw"))


def test_malformed_hashes_never_verify() -> None:
    for stored in ["", "garbage", "bcrypt$1$2$3$4$5", "scrypt$x$8$1$abc$def", "scrypt$16$8$1$!!$!!"]:
        assert not verify_password("pw", stored)
