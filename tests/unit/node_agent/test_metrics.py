from ariscale_common import Health, LinkState
from node_agent.metrics import event_metrics, websocket_metrics
from node_agent.publisher import EventStats


def test_event_counters_and_buffer() -> None:
    stats = EventStats(
        agent_run="r", received=10, published=7, messages=4, buffered=3, dropped=1, buffer_capacity=100
    )
    got = {(s.name, s.labels["node"]): s.value for f in event_metrics("n1", stats) for s in f.samples}
    assert got == {
        ("ariscale_agent_events_received_total", "n1"): 10,
        ("ariscale_agent_events_published_total", "n1"): 7,
        ("ariscale_agent_events_dropped_total", "n1"): 1,
        ("ariscale_agent_bus_messages_total", "n1"): 4,
        ("ariscale_agent_events_buffered", "n1"): 3,
    }


def test_websocket_state_per_app_from_health() -> None:
    health = Health("node_agent")
    health.set("ari:conf", LinkState.UP)
    health.set("ari:hello", LinkState.CONNECTING)
    health.set("amqp", LinkState.UP)  # not a websocket
    got = {s.labels["app"]: s.value for s in websocket_metrics("n2", health).samples}
    assert got == {"conf": 1.0, "hello": 0.0}
