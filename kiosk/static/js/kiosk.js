// The kiosk: touch -> ticket screen -> back to the services; never stuck, never two tickets.
(function () {
  "use strict";
  const screen = document.getElementById("screen");
  const offline = document.getElementById("offline");
  const servicesUrl = "/kiosk/services";
  let homeTimer = null;
  let tickTimer = null;
  let healthTimer = null;
  // What the kiosk knows of its printer: the server's thermal printer answered the last ticket
  // ("ok") or not ("failed"); a browser's print dialog cannot tell whether paper came out.
  let printer = screen.dataset.printing === "server" ? "unknown" : "browser";

  // Refusals (4xx) carry a friendly message to show; only 5xx and network errors mean "ask at the desk".
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "4..", swap: true, error: false },
    { code: "...", swap: false, error: true },
  ];

  function setOffline(down) {
    offline.hidden = !down;
    if (down && !healthTimer) {
      healthTimer = setInterval(function () {
        fetch(servicesUrl, { cache: "no-store" }).then(function (r) {
          if (r.ok) { setOffline(false); home(); }
        }).catch(function () {});
      }, 4000);
    }
    if (!down && healthTimer) { clearInterval(healthTimer); healthTimer = null; }
  }

  function clearTimers() {
    if (homeTimer) clearTimeout(homeTimer);
    if (tickTimer) clearInterval(tickTimer);
    homeTimer = tickTimer = null;
  }

  function home() {
    clearTimers();
    htmx.ajax("GET", servicesUrl, { target: "#screen", swap: "innerHTML", values: { lang: screen.dataset.lang } });
  }

  function countdown(section) {
    clearTimers();
    let left = parseInt(section.dataset.ticketSeconds || "8", 10);
    const shown = section.querySelector(".countdown");
    const paint = function () { if (shown) shown.textContent = "(" + left + ")"; };
    paint();
    tickTimer = setInterval(function () { left -= 1; paint(); if (left <= 0) home(); }, 1000);
    const reprint = section.querySelector(".reprint");
    if (reprint) {
      const expires = parseInt(reprint.dataset.expiresIn || "60", 10);
      setTimeout(function () { reprint.hidden = true; }, expires * 1000);
    }
  }

  // Every service on one screen: shrink the buttons' text together until none overflows.
  function fitServices() {
    const grid = document.querySelector("#services .grid");
    if (!grid) return;
    const buttons = Array.prototype.slice.call(grid.querySelectorAll(".service"));
    QMS.largestFitting(0.3, 1, function (k) { grid.style.setProperty("--k", String(k)); },
      function () { return buttons.every(QMS.showsAll); });
  }
  fitServices();
  window.addEventListener("resize", fitServices);
  if (document.fonts) document.fonts.ready.then(fitServices);

  document.body.addEventListener("htmx:afterSwap", function () {
    fitServices();
    const ticket = document.getElementById("ticket-screen");
    const message = document.getElementById("kiosk-message");
    if (ticket) {
      printer = ticket.dataset.printer || printer;
      countdown(ticket);
      if (ticket.dataset.browserPrint === "true") setTimeout(function () { window.print(); }, 50);
    } else if (message) {
      countdown(message);
    } else {
      clearTimers();
    }
  });
  screen.addEventListener("click", function (event) {
    const target = event.target.closest("[data-action='home']");
    if (target) home();
  });
  document.body.addEventListener("htmx:sendError", function () { setOffline(true); });
  document.body.addEventListener("htmx:responseError", function (event) {
    if (event.detail.xhr.status >= 500) setOffline(true);
  });

  // The hall clock, in the hall's timezone.
  const clock = document.getElementById("clock");
  const format = new Intl.DateTimeFormat(clock.dataset.lang, {
    timeZone: clock.dataset.tz, hour: "2-digit", minute: "2-digit", weekday: "short", month: "short", day: "numeric",
  });
  const paintClock = function () { clock.textContent = format.format(new Date()); };
  paintClock();
  setInterval(paintClock, 1000);

  // Waiting counts and renamed or closed services arrive live; refresh the buttons at most every 2 s.
  let pending = null;
  const socket = QMS.connect({ room: "kiosk" }, {
    "services:changed": function () {
      if (pending) return;
      pending = setTimeout(function () {
        pending = null;
        if (document.getElementById("services")) htmx.trigger(document.body, "refresh");
      }, 2000);
    },
  }, function (up) {
    if (!up) {
      fetch(servicesUrl, { cache: "no-store" }).then(function (r) { if (!r.ok) setOffline(true); })
        .catch(function () { setOffline(true); });
    }
  });
  QMS.heartbeat(socket, "kiosk", function () { return { printer: printer }; });
})();
