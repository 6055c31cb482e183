// One Socket.IO connection per screen: joins its room on every (re)connect, so the server
// sends a full snapshot each time and a missed event never leaves the screen wrong.
(function () {
  "use strict";
  window.QMS = window.QMS || {};
  window.QMS.connect = function (join, handlers, onStatus) {
    const socket = io({ transports: ["websocket"], reconnectionDelay: 500, reconnectionDelayMax: 5000 });
    socket.on("connect", function () {
      socket.emit("join", join);
      if (onStatus) onStatus(true);
    });
    socket.on("disconnect", function () { if (onStatus) onStatus(false); });
    socket.on("connect_error", function () { if (onStatus) onStatus(false); });
    Object.keys(handlers).forEach(function (name) { socket.on(name, handlers[name]); });
    return socket;
  };
})();
