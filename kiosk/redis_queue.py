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
        if time.monotonic() < self._down_until:
            return None  # Redis failed a moment ago: do not wait for it again message by message
        try:
            if self._out is None:
                self._out = redis.Redis.from_url(
                    self.redis_url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
                )
            return self._out.publish(self.channel, self.json.dumps(data))
        except Exception as error:  # the message is lost; screens heal on reconnect (DESIGN §6)
            log.error("Publishing to Redis failed (%s); the message is dropped", error)
            self._out = None
            self._down_until = time.monotonic() + REDIS_RETRY_S
            return None


def client_manager(url: str | None, channel: str, *, write_only: bool = False) -> dict[str, Any]:
    """The ``client_manager`` option of Flask-SocketIO for a Redis URL (None without one).

    None, not nothing: Flask-SocketIO keeps the options of an earlier ``init_app`` of the same
    SocketIO object, so an app without Redis after one with it would inherit its manager.
    """
    if not url:
        return {"client_manager": None}
    return {"client_manager": TimedRedisManager(url, channel, write_only)}
