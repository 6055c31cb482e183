// The visitor's phone page: follows the ticket live; alerts with sound and vibration when called.
(function () {
  "use strict";
  let audio = null;
  let lastCalls = null;

  function page() { return document.getElementById("ticket-page"); }

  // Browsers play sound only after a touch: the first touch anywhere unlocks it.
  document.addEventListener("click", function () {
    if (!audio && window.AudioContext) audio = new AudioContext();
    if (audio && audio.state === "suspended") audio.resume();
    const hint = document.getElementById("sound-on");
    if (hint) hint.hidden = true;  // the touch that asked for it has turned the sound on
  });

  function chime() {
    if (audio) {
      [0, 0.35].forEach(function (offset, i) {
        const osc = audio.createOscillator();
        const gain = audio.createGain();
        osc.frequency.value = i ? 660 : 880;
        gain.gain.setValueAtTime(0.0001, audio.currentTime + offset);
        gain.gain.exponentialRampToValueAtTime(0.4, audio.currentTime + offset + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + offset + 0.3);
        osc.connect(gain).connect(audio.destination);
        osc.start(audio.currentTime + offset);
        osc.stop(audio.currentTime + offset + 0.32);
      });
    }
    if (navigator.vibrate) navigator.vibrate([400, 150, 400, 150, 400]);
  }

  function fill(selector, template, values) {
    const el = page().querySelector(selector);
    if (!el) return;
    let text = el.dataset[template] || "";
    Object.keys(values).forEach(function (k) { text = text.split("{" + k + "}").join(values[k]); });
    el.textContent = text;
  }

  function showPosition(ahead, estimate) {
    const almost = page().querySelector(".almost");
    if (almost && ahead !== null && ahead !== undefined) {
      almost.hidden = ahead > parseInt(almost.dataset.threshold || "3", 10);
    }
    const el = page().querySelector(".ahead");
    if (el && ahead !== null && ahead !== undefined) {
      el.textContent = ahead === 0 ? el.dataset.one
        : ahead === 1 ? el.dataset.single : el.dataset.other.split("{n}").join(String(ahead));
    }
    if (estimate !== null && estimate !== undefined) {
      fill(".estimate", "template", { m: String(Math.ceil(estimate / 60)) });
    }
  }

  function showCalls(calls) {
    const box = document.getElementById("calls-now");
    if (!box) return;
    const list = box.querySelector(".calls");
    list.replaceChildren.apply(list, calls.map(function (call) {
      const item = document.createElement("li");
      const number = document.createElement("strong");
      number.className = "call-number";
      number.textContent = call.number;
      const counter = document.createElement("span");
      counter.className = "call-counter";
      counter.textContent = box.dataset.counter.split("{name}").join(call.counter);
      item.append(number, " ", counter);
      return item;
    }));
    list.hidden = calls.length === 0;
    box.querySelector(".calls-none").hidden = calls.length > 0;
  }

  function apply(ticket) {
    const root = page();
    if (!root || ticket.token !== root.dataset.token) return;
    const counter = ticket.counter ? ticket.counter.name : root.dataset.counter;
    root.dataset.counter = counter || "";
    fill(".called .go", "template", { counter: counter });
    fill(".called .sub", "template", { counter: counter, number: ticket.number });
    fill("[data-state='serving'] .big", "template", { counter: counter });
    showPosition(ticket.ahead, ticket.estimated_wait_s);
    const wasCalled = root.dataset.status === "called";
    const calls = ticket.call_count;
    if (ticket.status === "called" && (!wasCalled || (lastCalls !== null && calls > lastCalls))) chime();
    lastCalls = calls;
    root.dataset.status = ticket.status;
  }

  const root = page();
  const join = { room: "ticket", token: root.dataset.token };
  const socket = QMS.connect(join, {
    "ticket:update": function (ticket) {
      const current = page();
      // A transfer moves the ticket to another queue: follow that queue from now on.
      if (current && ticket.service !== current.dataset.service) {
        current.dataset.service = ticket.service;
        socket.emit("join", join);
      }
      apply(ticket);
    },
    // Our own place, after a change elsewhere in the queue (never anyone else's).
    "ticket:position": function (place) {
      const current = page();
      if (current && place.token === current.dataset.token) showPosition(place.ahead, place.estimated_wait_s);
    },
    // The numbers now called at the counters serving our service.
    "queue:calls": function (now) {
      const current = page();
      if (current && now.service === current.dataset.service) showCalls(now.calls);
    },
  }, function (up) {
    document.getElementById("link-state").hidden = up;
  });
})();
