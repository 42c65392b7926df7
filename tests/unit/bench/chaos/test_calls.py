"""Calls from sipp's step log, and what a fault cost them."""

from bench.chaos.calls import fault_cost, node_of, parse_steps, totals, window

PORTS = {61011: "n1", 61021: "n2"}
N1, N2 = ";Contact: <sip:127.0.0.1:61011>", ";Contact: <sip:127.0.0.1:61021>"


def line(step: str, call: str, when: float, extra: str = "") -> str:
    return f"{step};{call};2026-11-29\t11:00:00.000000\t{when:.6f}{extra}"


LOG = [
    line("start", "a", 100.0), line("up", "a", 100.1, N1), line("end", "a", 115.1),
    line("start", "b", 101.0), line("up", "b", 101.1, N2),  # n2 died with it
    line("start", "c", 104.0), line("up", "c", 104.1, N1),
    line("hung_up", "c", 106.0),  # hung up on by the cluster
    line("start", "d", 106.0),  # never answered
    line("start", "e", 109.0),  # never answered
    line("start", "f", 112.0), line("up", "f", 112.1, N1), line("end", "f", 127.0),
    "sipp: some other line", "up;x;not a time",
]  # fmt: skip


def test_steps_are_gathered_per_call_with_the_node_from_the_contact() -> None:
    calls = parse_steps(LOG, PORTS)
    assert sorted(calls) == ["a", "b", "c", "d", "e", "f"]
    assert (calls["a"].node, calls["a"].ended) == ("n1", 115.1)
    assert calls["b"].node == "n2" and calls["b"].ended_early
    assert calls["c"].hung_up == 106.0 and calls["c"].ended_early
    assert calls["d"].up is None and not calls["d"].ended_early


def test_node_of_an_unknown_port_is_none() -> None:
    assert node_of("Contact: <sip:127.0.0.1:5060>", PORTS) is None
    assert node_of("Contact: <sip:sipp@127.0.0.1:61021;transport=udp>", PORTS) == "n2"


def test_a_fault_counts_calls_up_before_it_that_ended_early_by_node_and_new_calls_that_failed() -> None:
    cost = fault_cost(parse_steps(LOG, PORTS).values(), fault_at=105.0)
    assert cost["established_before"] == 3
    assert cost["established_before_by_node"] == {"n1": 2, "n2": 1}
    assert (cost["ended_early"], cost["ended_early_by_node"]) == (2, {"n1": 1, "n2": 1})
    assert (cost["new_calls"], cost["new_failed"]) == (3, 2)
    assert cost["new_failed_window"] == {"first_s": 1.0, "last_s": 4.0, "span_s": 3.0}
    assert cost["new_up_then_ended_early"] == 0


def test_a_call_still_ringing_at_the_fault_is_a_new_call() -> None:
    calls = parse_steps([line("start", "r", 99.0), line("up", "r", 101.0)], PORTS)
    cost = fault_cost(calls.values(), fault_at=100.0)
    assert (cost["established_before"], cost["new_calls"], cost["new_failed"]) == (0, 1, 0)


def test_no_failures_have_no_window() -> None:
    assert window([], 10.0) is None


def test_totals() -> None:
    assert totals(parse_steps(LOG, PORTS).values()) == {
        "placed": 6,
        "up": 4,
        "completed": 2,
        "ended_early": 2,
    }
