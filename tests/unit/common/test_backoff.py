from ariscale_common.backoff import Backoff


def test_doubles_up_to_the_cap_and_resets() -> None:
    backoff = Backoff(0.1, 0.5)
    assert [backoff.next() for _ in range(5)] == [0.1, 0.2, 0.4, 0.5, 0.5]
    backoff.reset()
    assert backoff.next() == 0.1


def test_jitter_stays_within_its_fraction() -> None:
    backoff = Backoff(1.0, 1.0, jitter=0.2)
    assert all(0.8 <= backoff.next() <= 1.2 for _ in range(100))
