"""Socket.IO's Redis message queue, with timeouts: a frozen Redis never stalls the hall.

Publishing (the publisher thread of a server, or a command-line process) gives up after
``REDIS_TIMEOUT_S`` and logs, instead of waiting forever; the listening connection gets a
connect timeout and TCP keepalive (it must wait for messages as long as it takes).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import redis
import socketio  # type: ignore[import-untyped]

REDIS_TIMEOUT_S = 2.0
REDIS_RETRY_S = 5.0  # after a failure, messages are dropped at once for this long
# The listener retries 0.5, 1, 2, 2, ... s (python-socketio's own back-off grows to 60 s, and boards
# on this process would miss every call made elsewhere for up to a minute after Redis returned).
REDIS_LISTEN_FIRST_RETRY_S = 0.5
REDIS_LISTEN_MAX_RETRY_S = 2.0
# The rooms whose followers every process must know of: the phones (each its ticket, and its service's calls).
FOLLOWED_ROOMS = ("ticket:", "service:")
FOLLOWED_TTL_S = 86_400  # a process that died without leaving: its phones' rooms are forgotten then
log = logging.getLogger(__name__)


class TimedRedisManager(socketio.RedisManager):  # type: ignore[misc]
    """python-socketio's Redis manager whose publishing has a timeout."""

    def __init__(self, url: str, channel: str, write_only: bool = False) -> None:
        options = {"socket_connect_timeout": REDIS_TIMEOUT_S, "socket_keepalive": True}
        super().__init__(url, channel=channel, write_only=write_only, redis_options=options)
        self._out: redis.Redis | None = None
        self._down_until = 0.0
        # Called (in the listener's thread) when Redis answers again after it was lost: the
        # screens here missed what other processes published meanwhile and are sent fresh state.
        self.on_return: Callable[[], None] | None = None
        # Which phone rooms this process holds a socket in, kept in Redis so that a process
        # publishing a change sends a phone's place, or a service's calls, only where someone
        # follows it (``followed``).
        self._hosts_key = f"{channel}:hosts"
        self._followed_key = f"{channel}:followed:{self.host_id}"

    def basic_enter_room(self, sid: str, namespace: str, room: str, eio_sid: Any = None) -> Any:
        first = isinstance(room, str) and room.startswith(FOLLOWED_ROOMS) and not self._held(namespace, room)
        entered = super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        if first:
            self._note_followed([room], follows=True)
        return entered

    def basic_leave_room(self, sid: str, namespace: str, room: str) -> Any:
        left = super().basic_leave_room(sid, namespace, room)
        if isinstance(room, str) and room.startswith(FOLLOWED_ROOMS) and not self._held(namespace, room):
            self._note_followed([room], follows=False)
        return left

    def _held(self, namespace: str, room: str) -> bool:
        return bool(self.rooms.get(namespace, {}).get(room))

    def _note_followed(self, rooms: list[str], *, follows: bool) -> None:
        client = self._client()
        if client is None or self.write_only:
            return
        try:
            with client.pipeline(transaction=False) as pipe:
                if follows:
                    pipe.sadd(self._followed_key, *rooms)
                    pipe.expire(self._followed_key, FOLLOWED_TTL_S)
                    pipe.sadd(self._hosts_key, self.host_id)
                else:
                    pipe.srem(self._followed_key, *rooms)
                pipe.execute()
        except Exception as error:  # the phone still hears what this process publishes
            self._lost(error, "Noting a phone's room in Redis failed")

    def followed(self, rooms: list[str], namespace: str = "/") -> set[str]:
        """The rooms among ``rooms`` with a socket here or on another process (all, if Redis fails)."""
        here = {room for room in rooms if self._held(namespace, room)}
        elsewhere = [room for room in rooms if room not in here]
        client = self._client()
        if not elsewhere or client is None:
            return here | set(elsewhere)
        try:
            hosts = {h.decode() if isinstance(h, bytes) else str(h) for h in client.smembers(self._hosts_key)}
            hosts.discard(self.host_id)
            if not hosts:
                return here
            with client.pipeline(transaction=False) as pipe:
                for host in hosts:
                    pipe.smismember(f"{self.channel}:followed:{host}", elsewhere)
                found = pipe.execute()
        except Exception as error:
            self._lost(error, "Asking Redis which phones are followed failed")
            return here | set(elsewhere)  # better a message nobody reads than a phone left behind
        return here | {room for answers in found for room, yes in zip(elsewhere, answers, strict=True) if yes}

    def note_held_rooms(self, namespace: str = "/") -> None:
        """Tell Redis again of every phone room held here (after Redis was lost and is back)."""
        held = [
            r for r in self.rooms.get(namespace, {}) if isinstance(r, str) and r.startswith(FOLLOWED_ROOMS)
        ]
        if held:
            self._note_followed(held, follows=True)

    def _client(self) -> redis.Redis | None:
        if time.monotonic() < self._down_until:
            return None  # Redis failed a moment ago: do not wait for it again message by message
        if self._out is None:
            self._out = redis.Redis.from_url(
                self.redis_url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
            )
        return self._out

    def _lost(self, error: Exception, what: str) -> None:
        log.error("%s (%s)", what, error)
        self._out = None
        self._down_until = time.monotonic() + REDIS_RETRY_S

    def _redis_listen_with_retries(self) -> Iterator[Any]:
        retry_s = REDIS_LISTEN_FIRST_RETRY_S
        subscribed = lost = False
        while True:
            try:
                if not subscribed:
                    self._redis_connect()
                    self.pubsub.subscribe(self.channel)
                    subscribed = True
                    retry_s = REDIS_LISTEN_FIRST_RETRY_S
                    if lost and self.on_return is not None:
                        log.warning("Redis is back; sending every screen a fresh snapshot")
                        self._down_until = 0.0
                        self.note_held_rooms()
                        self.on_return()
                    lost = False
                yield from self.pubsub.listen()
            except Exception as error:
                log.error("Cannot receive from Redis (%s); retrying in %.1f s", error, retry_s)
                subscribed, lost = False, True
                time.sleep(retry_s)
                retry_s = min(retry_s * 2, REDIS_LISTEN_MAX_RETRY_S)

    def disconnect_room(self, room: str, namespace: str = "/") -> None:
        """Disconnect every socket in a room, on every server process sharing this Redis.

        Sent as python-socketio's own ``close_room`` message marked ``disconnect``: a process
        that does not know the mark still takes the sockets out of the room.
        """
        message = {"method": "close_room", "room": room, "namespace": namespace, "host_id": self.host_id}
        message["disconnect"] = True
        self._handle_close_room(message)  # this process's sockets
        self._publish(message)  # the others'

    def _handle_close_room(self, message: dict[str, Any]) -> None:
        if message.get("disconnect"):
            namespace = message.get("namespace") or "/"
            for sid, _ in list(self.get_participants(namespace, message.get("room"))):
                self.server.disconnect(sid, namespace=namespace, ignore_queue=True)
        super()._handle_close_room(message)

    def _publish(self, data: Any) -> Any:
        client = self._client()
        if client is None:
            return None
        try:
            return client.publish(self.channel, self.json.dumps(data))
        except Exception as error:  # the message is lost; screens heal on reconnect (DESIGN §6)
            self._lost(error, "Publishing to Redis failed; the message is dropped")
            return None


def client_manager(url: str | None, channel: str, *, write_only: bool = False) -> dict[str, Any]:
    """The ``client_manager`` option of Flask-SocketIO for a Redis URL (None without one).

    None, not nothing: Flask-SocketIO keeps the options of an earlier ``init_app`` of the same
    SocketIO object, so an app without Redis after one with it would inherit its manager.
    """
    if not url:
        return {"client_manager": None}
    return {"client_manager": TimedRedisManager(url, channel, write_only)}
