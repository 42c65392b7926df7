"""RabbitMQ restarted (the cluster's own broker): agents buffer, the gateway reconnects; no call is
dropped or fails, and the app gets every event once, in order."""

from tests.support.backing_servers import OwnBroker
from tests.support.fault_calls import FaultCalls, calls_survive


async def test_rabbitmq_restart_drops_no_call_and_loses_no_event(
    own_broker: OwnBroker, fault_calls: FaultCalls
) -> None:
    await calls_survive(fault_calls, own_broker.stop, own_broker.start)
