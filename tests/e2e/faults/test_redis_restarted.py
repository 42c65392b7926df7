"""Redis restarted (the cluster's own, with its append-only file): ownership and the event log are
back with it; no call is dropped or fails, and the app gets every event once, in order."""

from tests.support.backing_servers import OwnRedis
from tests.support.fault_calls import FaultCalls, calls_survive


async def test_redis_restart_drops_no_call_and_loses_no_event(
    own_redis: OwnRedis, fault_calls: FaultCalls
) -> None:
    await calls_survive(fault_calls, own_redis.stop, own_redis.start)
