// "Notify me on this phone": Web Push, asked for only when the visitor touches the button (never
// on load), and only where the browser supports it; the page works the same without it.
(function () {
  "use strict";
  var button = document.getElementById("push-ask");
  if (!button || !("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    return;
  }
  if (Notification.permission === "denied") {
    return; // the visitor said no once: do not ask again
  }
  var csrf = document.querySelector('meta[name="csrf-token"]');

  function keyBytes(base64url) {
    var padded = base64url.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((base64url.length + 3) % 4);
    var raw = window.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) {
      bytes[i] = raw.charCodeAt(i);
    }
    return bytes;
  }

  function done() {
    var note = document.createElement("p");
    note.className = "hint push-done";
    note.setAttribute("role", "status");
    note.textContent = button.getAttribute("data-done");
    button.replaceWith(note);
  }

  button.hidden = false;
  button.addEventListener("click", function () {
    button.disabled = true;
    navigator.serviceWorker
      .register(button.getAttribute("data-worker"))
      .then(function (registration) {
        return registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(button.getAttribute("data-key")),
        });
      })
      .then(function (subscription) {
        return fetch(button.getAttribute("data-url"), {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.content : "" },
          body: JSON.stringify(subscription.toJSON()),
          credentials: "same-origin",
        });
      })
      .then(function (answer) {
        if (answer.ok) {
          done();
        } else {
          button.disabled = false;
        }
      })
      .catch(function () {
        button.hidden = true; // refused or unsupported: the page goes on without it
      });
  });
})();
