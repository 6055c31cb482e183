// The hall board: draws what each event carries, announces every call once per call
// (chime, then speech in each hall language), one announcement after another.
// Lays itself out for 1 to 40 counters: the grid is chosen for the tiles' count and the
// screen's shape, and every text is fitted to its box, so nothing ever overflows.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("board-config").textContent);
  const langs = config.langs;
  const labels = config.labels;
  const filters = config.filters;
  const announced = (window.QMS_ANNOUNCED = []);
  const FLASH_MS = 5000;  // how long a called tile flashes
  const flashing = {};  // counter id -> when its flash ends (survives every redraw)
  let lastNumbers = {};
  let lastSnapshot = config.snapshot;
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
  function setText(node, text) { if (node.textContent !== text) node.textContent = text; }

  // The grid that makes the called number largest: for each column count, the number's size is
  // bounded by the tile's height and by its width (about 4.4 characters wide).
  // In a large hall a tile is a row: the counter's badge, then its number (4.4 + 2 characters).
  function bestGrid(count, width, height, gap, wide) {
    let best = { cols: 1, rows: Math.max(count, 1), size: 0 };
    for (let cols = 1; cols <= Math.max(count, 1); cols++) {
      const rows = Math.ceil(count / cols);
      const w = (width - gap * (cols - 1)) / cols;
      const h = (height - gap * (rows - 1)) / rows;
      const size = wide ? Math.min(h * 0.72, w / 4.4) : Math.min(h * 0.52, w / 2.9);
      if (size > best.size) best = { cols: cols, rows: rows, size: size };
    }
    return best;
  }

  // The largest font size (px, at most `max`) at which every node fits its box.
  function fit(nodes, max, min) {
    if (!nodes.length) return;
    let lo = min || 8;
    let hi = max;
    const fits = function (size) {
      nodes.forEach(function (n) { n.style.fontSize = size + "px"; });
      return nodes.every(function (n) {
        return n.scrollWidth <= n.clientWidth + 1 && n.scrollHeight <= n.clientHeight + 1;
      });
    };
    if (fits(hi)) return;
    for (let i = 0; i < 12 && hi - lo > 0.5; i++) {
      const mid = (lo + hi) / 2;
      if (fits(mid)) lo = mid; else hi = mid;
    }
    fits(Math.floor(lo));
  }

  function visibleCounters(snapshot) {
    return snapshot.counters.filter(function (c) {
      return shownCounter(c.id) && (!filters.services.length || c.services.some(shownService));
    });
  }

  function renderTiles(counters) {
    const grid = byId("counters");
    const now = Date.now();
    const keep = {};
    counters.forEach(function (c, index) {
      const key = String(c.id);
      keep[key] = true;
      let tile = grid.querySelector(".counter-tile[data-counter-id='" + key + "']");
      if (!tile) {
        tile = el("div", "counter-tile");
        tile.dataset.counterId = key;
        tile.appendChild(bilingual("counter-name", function (l) { return fill(l.counter_n, { counter: c.name }); }));
        tile.appendChild(el("span", "counter-badge", c.name));
        tile.appendChild(el("span", "tile-number"));
        tile.appendChild(el("span", "counter-state"));
      }
      if (grid.children[index] !== tile) grid.insertBefore(tile, grid.children[index] || null);
      setText(tile.querySelector(".tile-number"), c.number || "—");
      const state = tile.querySelector(".counter-state");
      state.replaceChildren();
      if (c.state !== "open") state.appendChild(bilingual("", function (l) { return l[c.state]; }));
      tile.classList.toggle("state-open", c.state === "open");
      tile.classList.toggle("state-paused", c.state === "paused");
      tile.classList.toggle("state-closed", c.state === "closed");
      if (c.number && lastNumbers[c.id] !== undefined && lastNumbers[c.id] !== c.number) tile.classList.add("fresh");
      lastNumbers[c.id] = c.number;
      tile.classList.toggle("calling", (flashing[c.id] || 0) > now);
    });
    Array.prototype.slice.call(grid.children).forEach(function (tile) {
      if (!keep[tile.dataset.counterId]) tile.remove();
    });
    grid.dataset.count = String(counters.length);
  }

  function renderRecent(snapshot) {
    const recent = byId("recent");
    recent.replaceChildren();
    // The last calls of the counters shown: the hall's recent list, and each counter's own last
    // call (a board for a few counters would otherwise miss calls older than the hall's list).
    const seen = {};
    const rows = snapshot.recent.concat(snapshot.counters.filter(function (c) { return c.number; }).map(function (c) {
      return { number: c.number, service: c.service, counter: c.name, counter_id: c.id, called_at: c.called_at };
    })).filter(function (r) {
      if (seen[r.number] || !shownService(r.service) || !shownCounter(r.counter_id)) return false;
      seen[r.number] = true;
      return true;
    }).sort(function (a, b) { return (b.called_at || "").localeCompare(a.called_at || ""); });
    rows.slice(0, Number(recent.dataset.rows || 6)).forEach(function (r, i) {
      const row = el("li", "recent-row" + (i === 0 ? " latest" : ""));
      row.appendChild(el("span", "recent-number", r.number));
      row.appendChild(el("span", "arrow", "→"));
      row.appendChild(bilingual("recent-counter", function (l) { return fill(l.counter_n, { counter: r.counter }); }));
      recent.appendChild(row);
    });
  }

  function renderWaiting(snapshot, counters) {
    // A board for some counters lists the queues of the services those counters serve.
    const served = {};
    counters.forEach(function (c) { c.services.forEach(function (code) { served[code] = true; }); });
    const waiting = byId("waiting");
    waiting.replaceChildren();
    const services = snapshot.services.filter(function (s) {
      return shownService(s.code) && (!filters.counters.length || served[s.code]);
    });
    // Two columns hold up to 14 services; each then shows its name in the hall's first language.
    waiting.dataset.columns = services.length > 6 ? "2" : "1";
    waiting.style.setProperty("--rows", String(Math.ceil(services.length / 2)));
    services.forEach(function (s) {
      const row = el("li", "waiting-row");
      row.appendChild(el("span", "waiting-code", s.code));
      const name = bilingual("waiting-name", function (_l, lang) { return s.names[lang] || s.code; });
      row.appendChild(name);
      row.appendChild(el("span", "waiting-count", String(snapshot.waiting[s.code] || 0)));
      waiting.appendChild(row);
    });
    return services;
  }

  function renderNext(snapshot, services) {
    const line = byId("next-line");
    const next = snapshot.next || {};
    const numbers = services.map(function (s) { return next[s.code]; }).filter(Boolean);
    line.hidden = !numbers.length;
    line.replaceChildren();
    if (numbers.length) {
      line.appendChild(bilingual("next-text", function (l) { return fill(l.next, { numbers: numbers.join(" ") }); }));
    }
  }

  function renderNotice(snapshot) {
    const box = byId("notice");
    const notice = snapshot.notice || {};
    const texts = langs.map(function (lang) { return notice[lang]; }).filter(Boolean);
    box.hidden = !texts.length;
    const text = box.querySelector(".notice-text");
    setText(text, texts.join("   ·   "));
    // A notice longer than its line scrolls; a short one stands still.
    box.classList.toggle("scrolling", text.scrollWidth > box.clientWidth);
  }

  function layout() {
    const counters = Array.prototype.slice.call(byId("counters").children);
    const grid = byId("counters");
    const area = byId("serving-area");
    const gap = parseFloat(getComputedStyle(grid).columnGap) || 0;
    const large = counters.length > 12;
    document.body.dataset.size = large ? "large" : "small";
    const best = bestGrid(counters.length, area.clientWidth, area.clientHeight, gap, large);
    grid.style.gridTemplateColumns = "repeat(" + best.cols + ", minmax(0, 1fr))";
    grid.style.gridTemplateRows = "repeat(" + best.rows + ", minmax(0, 1fr))";
    const unit = Math.min(window.innerWidth, window.innerHeight) / 100;  // 1vmin
    fit(grid.querySelectorAll(".tile-number").length ? Array.prototype.slice.call(grid.querySelectorAll(".tile-number")) : [],
      Math.min(best.size, 28 * unit), 2 * unit);
    fit(Array.prototype.slice.call(grid.querySelectorAll(large ? ".counter-badge" : ".counter-name")),
      large ? best.size * 0.8 : 4.2 * unit, 1.4 * unit);
    fit(Array.prototype.slice.call(grid.querySelectorAll(".counter-state")), 3 * unit, 1.2 * unit);
    const recent = Array.prototype.slice.call(document.querySelectorAll("#recent .recent-row:not(.latest)"));
    fit(recent, 5.2 * unit, 2.5 * unit);
    fit(Array.prototype.slice.call(document.querySelectorAll("#recent .latest")), 11 * unit, 3 * unit);
    fit(Array.prototype.slice.call(document.querySelectorAll("#waiting .waiting-row")), 3.6 * unit, 1.6 * unit);
    fit(Array.prototype.slice.call(document.querySelectorAll("#next-line .next-text")), 4 * unit, 2 * unit);
  }

  function render(snapshot) {
    lastSnapshot = snapshot;
    const counters = visibleCounters(snapshot);
    renderTiles(counters);
    renderRecent(snapshot);
    const services = renderWaiting(snapshot, counters);
    renderNext(snapshot, services);
    renderNotice(snapshot);
    layout();
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

  function flash(counterId) {
    // The flash is state, not a one-off class: the snapshot that follows a call redraws the
    // board and must not cut it short.
    flashing[counterId] = Date.now() + FLASH_MS;
    const tile = document.querySelector(".counter-tile[data-counter-id='" + counterId + "']");
    if (tile) { tile.classList.remove("calling"); void tile.offsetWidth; tile.classList.add("calling"); }
    setTimeout(function () {
      if ((flashing[counterId] || 0) <= Date.now()) {
        const t = document.querySelector(".counter-tile[data-counter-id='" + counterId + "']");
        if (t) t.classList.remove("calling");
      }
    }, FLASH_MS + 50);
  }

  let queue = Promise.resolve();
  function announce(call) {
    flash(call.counter_id);
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
    return chime().then(function () {
      return langs.reduce(function (chain, lang, i) {
        return chain.then(function () { return speak(texts[i], lang); });
      }, Promise.resolve());
    }).then(function () {
      return new Promise(function (resolve) { setTimeout(resolve, 800); });
    }).then(function () {
      banner.classList.remove("show");
    });
  }

  render(config.snapshot);
  window.addEventListener("resize", function () { render(lastSnapshot); });
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
