"""Each app's events numbered 1, 2, 3 … (``ariscale_seq``), kept for a while, and resumed after.

The app's dispatcher (one gateway at a time: the app's queue has a single active consumer) gives
every event it hands on the app's next number in the same Redis round trip that picks the instance
(:meth:`EventLog.stamp`, one Lua script): the number, the event as the app sees it and the instance
it went to are logged together, so a gateway that takes over the app continues the count, and an
event delivered again by the bus (its node agent's id is known) keeps its number.

A client that reconnects with ``?after=<seq>`` (:meth:`EventLog.resume`) takes over the connection
that received ``<seq>`` (it no longer counts as live) and gets every logged event after it that
went to a connection that is gone, or to the new one, in order; from then on each event is written
to a connection once (:class:`Delivered`).

Redis may lose the log (restarted without its data, keys evicted): the count then starts again
at 1. So each log carries ``epoch``, an id made when the log is (re)created and returned with
every number; a connection given numbers of one epoch closes when a number of another comes
(:meth:`Delivered.same_count`, reason ``sequence-restarted``) rather than take the new 1, 2, 3 …
for repeats: the client reconnects, its ``after`` is refused, and it starts afresh.

Redis (:mod:`ariscale_common.keyspace`): ``events:<app>`` hash: ``last`` (the last number given),
``first`` (the oldest number still kept), ``ev:<n>`` (event text without its number), ``to:<n>``
(instance), ``m:<n>`` / ``id:<event id>`` (the bus message's id ↔ number), ``epoch`` (the count's
id: Redis time when the log was created, ``<s>.<µs>``). The last ``keep``
events are kept; the counter is never reset, so numbers keep growing across gateway restarts.
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

from ariscale_common.errors import ApiError
from ariscale_common.keyspace import Keyspace
from gateway.exceptions import ResumeExpired, SequenceUnknown
from gateway.redis_store import RedisStore, as_str

log = logging.getLogger(__name__)

SEQ_FIELD = "ariscale_seq"  # the extension field: ARI clients ignore fields they do not know
ASSIGN_TTL = 24 * 3600  # seconds a call's assignment to an instance lives without events
ENDED_TTL = 60  # … once the call's last events came: stragglers still reach the same instance
DEFAULT_KEEP = 10_000  # events kept per app for resuming
# Why a connection is closed when its app's count starts over (the websocket's close reason).
RESTARTED = "sequence-restarted: the app's ariscale_seq started over (Redis lost it); reconnect without after"


def with_seq(text: str, seq: int) -> str:
    """The event's JSON object text with ``ariscale_seq`` added last (no re-encoding)."""
    body = text.rstrip()
    if not body.endswith("}"):
        raise ValueError(f"not a JSON object: {text[:80]!r}")
    inner = body[:-1].rstrip()
    separator = "" if inner.endswith("{") else ", "
    return f'{inner}{separator}"{SEQ_FIELD}": {seq}}}'


def parse_after(value: str | None) -> int | None:
    """``after`` of ``/ari/events``: None when absent; a number ≥ 0, else ApiError (400)."""
    if value is None or value == "":
        return None
    if not value.isdigit():
        raise ApiError(
            f"after must be the sequence number (ariscale_seq) of the last event received, not {value!r}",
            {"after": value},
        )
    return int(value)


@dataclass(frozen=True)
class ToStamp:
    """One event to number: the call it belongs to (None: none), its text as the app sees it, the
    bus message's id (keeps its number when the bus delivers it again), and whether it is among
    the call's last events."""

    call: str | None
    text: str
    event_id: str | None = None
    ending: bool = False


@dataclass(frozen=True)
class Stamped:
    """Where one event goes and its number; ``text`` is the logged text when it was logged before."""

    seq: int
    instance: str
    text: str | None
    previous: str | None  # the instance the call's events went to before, when it moved
    epoch: str | None  # the count ``seq`` belongs to (a new one after Redis lost the log)


@dataclass(frozen=True)
class Replay:
    """The logged events a resumed connection gets first (number, numbered text), and their count's
    epoch (None: nothing was numbered yet)."""

    events: list[tuple[int, str]]
    epoch: str | None


class Delivered:
    """The numbers already written to one connection: each is written once, whatever comes twice.

    Below ``floor`` everything counts as written (the client's ``after``, then raised as the
    window moves on so memory stays bounded). Numbers are only comparable within one ``epoch``.
    """

    def __init__(self, floor: int = 0, window: int = 4096, epoch: str | None = None) -> None:
        self.floor = floor
        self.epoch = epoch  # the count the numbers written here belong to; None: not known yet
        self._window = window
        self._seen: set[int] = set()

    def same_count(self, epoch: str | None) -> bool:
        """False when ``epoch`` is another count than this connection's (the app's numbering
        started over): its numbers would pass for repeats. The first epoch given is adopted;
        None (a sender that does not say) is taken as the same."""
        if epoch is None or epoch == self.epoch:
            return True
        if self.epoch is None:
            self.epoch = epoch
            return True
        return False

    def first_time(self, seq: int) -> bool:
        if seq <= self.floor or seq in self._seen:
            return False
        self._seen.add(seq)
        if len(self._seen) > 2 * self._window:
            self.floor = max(self._seen) - self._window
            self._seen = {s for s in self._seen if s > self.floor}
        return True


# Numbers several events of one app, in order, in one round trip.
# KEYS: instances, turn, log, then for each event its call's assignment (the turn key: no call).
# ARGV: now, avoided instances ("\n"-joined), keep, assign ttl, ended ttl, then for each event:
#       text, event id ("": none), call key ("": none), ending ("1": the call's last events).
# Returns {} when no instance is live, else {epoch, then for each event: seq, instance, logged
# text or false, previous or false}; the epoch is made when missing (a new log, or one from
# before epochs).
_STAMP = """
local avoided = {}
for a in string.gmatch(ARGV[2], '[^\\n]+') do avoided[a] = true end
local live, is_live = {}, {}
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf')) do
  if not avoided[m] then table.insert(live, m); is_live[m] = true end
end
if #live == 0 then return {} end
table.sort(live)
local logkey = KEYS[3]
local epoch = redis.call('HGET', logkey, 'epoch')
if not epoch then
  local t = redis.call('TIME')
  epoch = t[1] .. '.' .. t[2]
  redis.call('HSET', logkey, 'epoch', epoch)
end
local keep = tonumber(ARGV[3])
local out = {epoch}
for i = 0, (#ARGV - 5) / 4 - 1 do
  local text, id, call, ending = ARGV[6 + 4 * i], ARGV[7 + 4 * i], ARGV[8 + 4 * i], ARGV[9 + 4 * i]
  local target, previous = live[1], false
  if call ~= '' then
    local current = redis.call('GET', KEYS[4 + i])
    if current and is_live[current] then
      target = current
    else
      target = live[(redis.call('INCR', KEYS[2]) % #live) + 1]
      previous = current
    end
    redis.call('SET', KEYS[4 + i], target, 'EX', ending == '1' and ARGV[5] or ARGV[4])
  end
  local known = id ~= '' and redis.call('HGET', logkey, 'id:' .. id)
  if known then
    redis.call('HSET', logkey, 'to:' .. known, target)
    table.insert(out, tonumber(known))
    table.insert(out, target)
    table.insert(out, redis.call('HGET', logkey, 'ev:' .. known))
  else
    local seq = redis.call('HINCRBY', logkey, 'last', 1)
    redis.call('HSET', logkey, 'ev:' .. seq, text, 'to:' .. seq, target)
    if id ~= '' then redis.call('HSET', logkey, 'id:' .. id, seq, 'm:' .. seq, id) end
    local old = seq - keep
    if old >= 1 then
      local gone = redis.call('HGET', logkey, 'm:' .. old)
      if gone then redis.call('HDEL', logkey, 'id:' .. gone) end
      redis.call('HDEL', logkey, 'ev:' .. old, 'to:' .. old, 'm:' .. old)
      redis.call('HSET', logkey, 'first', old + 1)
    end
    table.insert(out, seq)
    table.insert(out, target)
    table.insert(out, false)
  end
  table.insert(out, previous)
end
return out
"""

# KEYS: log, instances. ARGV: after, the new instance, now, check only ("1").
# Returns {status, last, first, epoch or false, seq1, text1, seq2, text2 …}; status 0 ok, 1 after
# is ahead of the count, 2 events after it are no longer kept.
_RESUME = """
local logkey = KEYS[1]
local after = tonumber(ARGV[1])
local last = tonumber(redis.call('HGET', logkey, 'last') or '0')
local first = tonumber(redis.call('HGET', logkey, 'first') or '1')
local epoch = redis.call('HGET', logkey, 'epoch')
if after > last then return {1, last, first, epoch} end
if after < first - 1 then return {2, last, first, epoch} end
local out = {0, last, first, epoch}
if ARGV[4] == '1' then return out end
local taken = redis.call('HGET', logkey, 'to:' .. after)
if taken and taken ~= ARGV[2] then redis.call('ZADD', KEYS[2], 'XX', ARGV[3], taken) end
local live = {}
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[3], '+inf')) do live[m] = true end
for s = after + 1, last do
  local to = redis.call('HGET', logkey, 'to:' .. s)
  if to and (to == ARGV[2] or not live[to]) then
    local ev = redis.call('HGET', logkey, 'ev:' .. s)
    if ev then
      redis.call('HSET', logkey, 'to:' .. s, ARGV[2])
      table.insert(out, s)
      table.insert(out, ev)
    end
  end
end
return out
"""


class EventLog(RedisStore):
    """Numbers, logs and replays each app's events; also keeps calls on their instance."""

    def __init__(self, redis: Redis, keys: Keyspace, keep: int = DEFAULT_KEEP) -> None:
        super().__init__(redis, keys)
        self.keep = keep
        self._stamp = redis.register_script(_STAMP)
        self._resume = redis.register_script(_RESUME)

    async def stamp(
        self,
        app: str,
        call: str | None,
        text: str,
        *,
        event_id: str | None = None,
        avoid: Iterable[str] = (),
        ending: bool = False,
        now: float,
    ) -> Stamped | None:
        """The instance that gets this event of ``call`` (sticky; round robin for a new call) and
        its number, logged with ``text``; None when the app has no live instance (not numbered)."""
        stamped = await self.stamp_many(app, [ToStamp(call, text, event_id, ending)], avoid=avoid, now=now)
        return stamped[0] if stamped is not None else None

    async def stamp_many(
        self, app: str, events: Sequence["ToStamp"], *, avoid: Iterable[str] = (), now: float
    ) -> list[Stamped] | None:
        """:meth:`stamp` for several events of the app, in order, in one round trip; None when
        the app has no live instance (none numbered)."""
        k = self._keys
        keys = [k.instances(app), k.turn(app), k.event_log(app)]
        keys += [k.assignment(app, e.call) if e.call else k.turn(app) for e in events]
        args: list[str | int] = [repr(now), "\n".join(avoid), self.keep, ASSIGN_TTL, ENDED_TTL]
        for e in events:
            args += [e.text, e.event_id or "", e.call or "", "1" if e.ending else "0"]
        answer = await self._stamp(keys=keys, args=args)
        if not answer:
            return None
        epoch, rest = as_str(answer[0]), answer[1:]
        return [
            Stamped(
                int(seq),
                as_str(instance),
                as_str(logged) if logged is not None else None,
                as_str(previous) if previous is not None else None,
                epoch,
            )
            for seq, instance, logged, previous in zip(
                rest[0::4], rest[1::4], rest[2::4], rest[3::4], strict=True
            )
        ]

    async def check(self, app: str, after: int) -> None:
        """Refuse (ApiError) a resume after ``after`` that cannot be served."""
        await self._run_resume(app, after, "", 0.0, check_only=True)

    async def resume(self, app: str, after: int, instance: str, now: float) -> Replay:
        """The logged events after ``after`` for ``instance`` (live already), numbered, in order;
        the connection that received ``after`` stops counting as live."""
        return await self._run_resume(app, after, instance, now, check_only=False)

    async def _run_resume(self, app: str, after: int, instance: str, now: float, check_only: bool) -> Replay:
        keys = [self._keys.event_log(app), self._keys.instances(app)]
        answer = await self._resume(keys=keys, args=[after, instance, repr(now), "1" if check_only else "0"])
        status, last, first, epoch, *rest = answer
        details = {"after": after, "last": int(last), "oldest_kept": int(first)}
        if status == 1:
            raise SequenceUnknown(
                f"app {app}: no event {after} was sent yet (the last is {last}); reconnect without after",
                details,
            )
        if status == 2:
            raise ResumeExpired(
                f"app {app}: the events after {after} are no longer kept (the oldest is {first});"
                " reconnect without after",
                details,
            )
        events = [(int(rest[i]), with_seq(as_str(rest[i + 1]), int(rest[i]))) for i in range(0, len(rest), 2)]
        return Replay(events, as_str(epoch) if epoch is not None else None)
