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
})();
