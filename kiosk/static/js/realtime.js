// One Socket.IO connection per screen: joins its room on every (re)connect, so the server
// sends a full snapshot each time and a missed event never leaves the screen wrong.
// <body data-live="yes"> once the first answer to the join has arrived, "no" while the link is down.
(function () {
  "use strict";
  window.QMS = window.QMS || {};
  window.QMS.connect = function (join, handlers, onStatus) {
    const socket = io({ transports: ["websocket"], reconnectionDelay: 500, reconnectionDelayMax: 5000 });
    const down = function () {
      document.body.dataset.live = "no";
      if (onStatus) onStatus(false);
    };
    socket.on("connect", function () {
      socket.emit("join", join);
      if (onStatus) onStatus(true);
    });
    socket.on("error", function (data) {
      // The server's database was down when this screen joined: ask again shortly.
      if (data && data.code === "database_unavailable") {
        setTimeout(function () { if (socket.connected) socket.emit("join", join); },
          1000 * (data.retry_after_s || 5));
      }
    });
    socket.on("disconnect", down);
    socket.on("connect_error", down);
    Object.keys(handlers).forEach(function (name) {
      socket.on(name, function (data) {
        document.body.dataset.live = "yes";
        handlers[name](data);
      });
    });
    return socket;
  };

  // The screen's heartbeat (设备故障应急): every 20 s, and at once on every (re)connect, its kind,
  // its name and what `state()` says ({sound} for a board, {printer} for a kiosk).  The name is
  // ?device= when the address gives one, else the page's own (a registered tablet's), else an id
  // made once and kept in this browser.  Returns a function that sends one now.
  const HEARTBEAT_MS = 20000;
  function deviceName(kind) {
    const asked = new URLSearchParams(window.location.search).get("device");
    if (asked) return asked;
    const named = document.querySelector("[data-device-name]");
    if (named && named.dataset.deviceName) return named.dataset.deviceName;
    const key = "qms-device-" + kind;
    const made = kind + "-" + Math.random().toString(36).slice(2, 8);
    try {
      const kept = window.localStorage.getItem(key);
      if (kept) return kept;
      window.localStorage.setItem(key, made);
    } catch (e) { /* storage refused (private mode): a name for this page's life */ }
    return made;
  }
  window.QMS.heartbeat = function (socket, kind, state) {
    const name = deviceName(kind);
    const meta = document.querySelector("meta[name=qms-version]");
    const send = function () {
      if (!socket.connected) return;
      const beat = Object.assign({ kind: kind, name: name, version: meta ? meta.content : null }, state ? state() : {});
      socket.emit("heartbeat", beat, function (answer) { window.QMS_HEARTBEAT = answer; });
    };
    socket.on("connect", send);
    setInterval(send, HEARTBEAT_MS);
    return send;
  };
})();
