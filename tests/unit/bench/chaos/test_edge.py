"""The SIP edge during a fault: the dispatch set kamcmd prints, when a node left it and came back,
and which calls Kamailio's log says it sent to a node."""

from bench.chaos.calls import CallRecord
from bench.chaos.edge import DispatchWatch, destinations, dispatch_set, sent_to_node


def dest(port: int, flags: str, node: str) -> str:
    return f"""
				DEST: {{
					URI: sip:127.0.0.1:{port}
					FLAGS: {flags}
					PRIORITY: 0
					ATTRS: {{
						BODY: node={node}
						DUID: <null string>
						MAXLOAD: 0
					}}
				}}"""


def listing(*dests: str) -> str:
    """What ``kamcmd dispatcher.list`` prints (Kamailio 5.6), as read on this machine."""
    return f"""{{
	NRSETS: 1
	RECORDS: {{
		SET: {{
			ID: 1
			TARGETS: {{{"".join(dests)}
			}}
		}}
	}}
}}
"""


def test_the_dispatch_set_is_read_per_node_active_only_when_its_flags_start_with_a() -> None:
    text = listing(dest(61021, "AX", "n2"), dest(61011, "IP", "n1"), dest(61031, "DX", "n3"))
    assert dispatch_set(text) == {"n2": True, "n1": False, "n3": False}
    assert dispatch_set(listing(dest(61011, "AP", "n1"))) == {"n1": True}


def test_an_empty_set_is_empty_and_no_answer_is_unknown() -> None:
    assert dispatch_set("error: 500 - No Destination Sets\n") == {}
    assert dispatch_set("") is None
    assert dispatch_set("error: 500 - Ongoing reload") is None


def test_a_node_is_out_from_its_first_sample_gone_or_inactive_until_active_again() -> None:
    both, n2 = {"n1": True, "n2": True}, {"n2": True}
    watch = DispatchWatch(
        [(9.9, both), (10.1, both), (10.2, None), (10.3, {"n1": False, "n2": True}), (10.4, n2), (12.5, both)]
    )
    assert watch.out_and_back(since=10.0) == {"n1": {"out_s": 0.3, "back_s": 2.5}}


def test_a_node_still_out_at_the_end_never_came_back_and_unreadable_samples_tell_nothing() -> None:
    watch = DispatchWatch([(10.0, {"n1": True}), (10.5, None), (11.0, {}), (11.5, None)])
    assert watch.out_and_back(since=10.0) == {"n1": {"out_s": 1.0, "back_s": None}}
    assert DispatchWatch([(10.0, {"n1": True}), (10.5, None)]).out_and_back(since=10.0) == {}


PORTS = {61011: "n1", 61021: "n2"}
KAMAILIO_LOG = [
    " 1(12789) INFO: <script>: INVITE sip:7300@127.0.0.1:61007 (1-99@127.0.0.1) -> sip:127.0.0.1:61011",
    " 1(12789) INFO: <script>: INVITE sip:7300@127.0.0.1:61007 (2-99@127.0.0.1) -> sip:127.0.0.1:61021",
    " 2(12790) WARNING: <script>: 1-99@127.0.0.1: node failed, retrying on sip:127.0.0.1:61021",
    " 1(12789) INFO: <script>: INVITE sip:7300@127.0.0.1:61007 (3-99@127.0.0.1) -> sip:127.0.0.1:5999",
    " 0(12788) INFO: <core> [main.c:854]: sig_usr(): signal 15 received",
]


def test_each_call_s_destinations_are_read_in_order_from_kamailio_s_log() -> None:
    assert destinations(KAMAILIO_LOG, PORTS) == {"1-99@127.0.0.1": ["n1", "n2"], "2-99@127.0.0.1": ["n2"]}


def test_calls_sent_to_the_node_after_the_fault_split_by_whether_it_answered() -> None:
    sent = {"a": ["n1"], "b": ["n1", "n2"], "c": ["n1", "n2"], "d": ["n2"], "e": ["n1"], "f": ["n1"]}
    calls = [
        CallRecord("a", started=99.0, up=99.1, node="n1"),  # before the fault
        CallRecord("b", started=100.5, up=102.6, node="n2"),  # failed over
        CallRecord("c", started=101.5),  # failed
        CallRecord("d", started=102.0, up=102.1, node="n2"),  # never sent to n1
        CallRecord("e", started=103.0, up=103.1, node="n1"),  # n1 back
        CallRecord("f", started=104.0, up=104.1, node="n1"),
    ]
    assert sent_to_node(calls, sent, "n1", fault_at=100.0) == {
        "node": "n1", "sent": 4, "not_answered": 2,
        "not_answered_window": {"first_s": 0.5, "last_s": 1.5, "span_s": 1.0}, "failed_over": 1,
        "answered": 2, "first_answered_s": 3.0,
    }  # fmt: skip
