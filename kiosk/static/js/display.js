// The hall board: draws what each event carries, announces every call once per call
// (chime, then speech in each hall language), one announcement after another.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("board-config").textContent);
  const langs = config.langs;
  const labels = config.labels;
  const filters = config.filters;
  const announced = (window.QMS_ANNOUNCED = []);
  let lastNumbers = {};
  let audio = null;

  const byId = function (id) { return document.getElementById(id); };
  const shownService = function (code) { return !filters.services.length || filters.services.indexOf(code) >= 0; };
  const shownCounter = function (id) { return !filters.counters.length || filters.counters.indexOf(id) >= 0; };
  const fill = function (template, values) {
    return Object.keys(values).reduce(function (text, k) { return text.split("{" + k + "}").join(values[k]); }, template);
  };
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function bilingual(cls, make) {
    const box = el("span", cls);
    langs.forEach(function (lang) {
      const part = el("span", "l-" + lang, make(labels[lang], lang));
      part.lang = config.speech[lang];
      box.appendChild(part);
    });
    return box;
  }

  function render(snapshot) {
    const counters = snapshot.counters.filter(function (c) {
      return shownCounter(c.id) && (!filters.services.length || c.services.some(shownService));
    });
    const grid = byId("counters");
    grid.replaceChildren();
    grid.dataset.count = String(counters.length);
    counters.forEach(function (c) {
      const tile = el("div", "counter-tile state-" + c.state);
      tile.dataset.counterId = String(c.id);
      tile.appendChild(bilingual("counter-name", function (l) { return fill(l.counter_n, { counter: c.name }); }));
      tile.appendChild(el("span", "tile-number", c.number || "—"));
      if (c.state !== "open") tile.appendChild(bilingual("counter-state", function (l) { return l[c.state]; }));
      if (c.number && lastNumbers[c.id] !== undefined && lastNumbers[c.id] !== c.number) tile.classList.add("fresh");
      lastNumbers[c.id] = c.number;
      grid.appendChild(tile);
    });
    const recent = byId("recent");
    recent.replaceChildren();
    snapshot.recent.filter(function (r) { return shownService(r.service) && shownCounter(r.counter_id); })
      .slice(0, 8).forEach(function (r) {
        const row = el("li", "recent-row");
        row.appendChild(el("span", "recent-number", r.number));
        row.appendChild(el("span", "arrow", "→"));
        row.appendChild(bilingual("recent-counter", function (l) { return fill(l.counter_n, { counter: r.counter }); }));
        recent.appendChild(row);
      });
    // A board for some counters lists the queues of the services those counters serve.
    const served = {};
    counters.forEach(function (c) { c.services.forEach(function (code) { served[code] = true; }); });
    const waiting = byId("waiting");
    waiting.replaceChildren();
    snapshot.services.filter(function (s) {
      return shownService(s.code) && (!filters.counters.length || served[s.code]);
    }).forEach(function (s) {
      const row = el("li", "waiting-row");
      row.appendChild(el("span", "waiting-code", s.code));
      row.appendChild(bilingual("waiting-name", function (_l, lang) { return s.names[lang] || s.code; }));
      row.appendChild(el("span", "waiting-count", String(snapshot.waiting[s.code] || 0)));
      waiting.appendChild(row);
    });
  }

  // Sound: a two-tone chime made in the browser (no file, no network), then local speech.
  function unlockAudio() {
    if (!audio && window.AudioContext) audio = new AudioContext();
    if (audio && audio.state === "suspended") audio.resume();
    byId("sound-on").hidden = !!audio && audio.state === "running";
  }
  function chime() {
    return new Promise(function (resolve) {
      unlockAudio();
      if (audio && audio.state === "running") {
        [[0, 784], [0.45, 659], [0.9, 523]].forEach(function (step) {
          const osc = audio.createOscillator();
          const gain = audio.createGain();
          const at = audio.currentTime + step[0];
          osc.type = "sine";
          osc.frequency.value = step[1];
          gain.gain.setValueAtTime(0.0001, at);
          gain.gain.exponentialRampToValueAtTime(0.5, at + 0.03);
          gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.8);
          osc.connect(gain).connect(audio.destination);
          osc.start(at);
          osc.stop(at + 0.85);
        });
      }
      setTimeout(resolve, 1600);
    });
  }
  function speak(text, lang) {
    return new Promise(function (resolve) {
      if (!window.speechSynthesis) return resolve();
      const utterance = new SpeechSynthesisUtterance(text);
      utterance.lang = config.speech[lang];
      const prefix = utterance.lang.slice(0, 2);
      // Local voices only: a hall board must speak without internet.
      const voice = speechSynthesis.getVoices().find(function (v) { return v.localService && v.lang.indexOf(prefix) === 0; });
      if (voice) utterance.voice = voice;
      utterance.rate = 0.9;
      let done = false;
      const finish = function () { if (!done) { done = true; resolve(); } };
      utterance.onend = finish;
      utterance.onerror = finish;
      setTimeout(finish, 2000 + 180 * text.length);  // never let a silent engine stall the queue
      speechSynthesis.speak(utterance);
    });
  }

  let queue = Promise.resolve();
  function announce(call) {
    // An announcement that fails must never silence the ones after it.
    queue = queue.then(function () { return play(call); }).catch(function (error) {
      if (window.console) console.error("announcement failed", error);
    });
  }
  function play(call) {
    const texts = langs.map(function (lang) {
      return fill(labels[lang].announce, { number: call.number, counter: call.counter });
    });
    announced.push(texts.join(" / "));
    const banner = byId("announcement");
    banner.textContent = texts.join("  ·  ");
    banner.classList.add("show");
    const tile = document.querySelector(".counter-tile[data-counter-id='" + call.counter_id + "']");
    if (tile) { tile.classList.remove("calling"); void tile.offsetWidth; tile.classList.add("calling"); }
    return chime().then(function () {
      return langs.reduce(function (chain, lang, i) {
        return chain.then(function () { return speak(texts[i], lang); });
      }, Promise.resolve());
    }).then(function () {
      return new Promise(function (resolve) { setTimeout(resolve, 800); });
    }).then(function () {
      banner.classList.remove("show");
      if (tile) tile.classList.remove("calling");
    });
  }

  render(config.snapshot);
  byId("sound-on").addEventListener("click", unlockAudio);
  unlockAudio();
  QMS.connect({ room: "display" }, {
    "display:snapshot": render,
    "display:call": function (call) {
      if (shownService(call.service) && shownCounter(call.counter_id)) announce(call);
    },
  }, function (up) { byId("link-state").hidden = up; });

  const clock = byId("clock");
  const format = new Intl.DateTimeFormat(config.speech[langs[0]], {
    timeZone: clock.dataset.tz, hour: "2-digit", minute: "2-digit", weekday: "short", month: "short", day: "numeric",
  });
  const paint = function () { clock.textContent = format.format(new Date()); };
  paint();
  setInterval(paint, 1000);
})();
