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
  // Grids and tile shapes worth trying for `count` tiles, best first by a rough estimate of
  // the number's size.  A tile is tall (name above, number below) or wide (the counter's
  // badge beside its number); the number is about 2.8 characters' widths (4 glyphs).
  function candidateGrids(count, width, height, gap, chrome) {
    const found = [];
    for (let cols = 1; cols <= Math.max(count, 1); cols++) {
      const rows = Math.ceil(count / cols);
      const w = (width - gap * (cols - 1)) / cols - chrome;
      const h = (height - gap * (rows - 1)) / rows - chrome;
      // Capitals are about 0.73 of the font size: a number may be as large as its row / 0.73.
      found.push({ cols: cols, rows: rows, wide: false, size: Math.min((h * 0.72) / 0.73, w / 2.8) });
      found.push({ cols: cols, rows: rows, wide: true, size: Math.min((h * 0.85) / 0.73, (w * 0.62) / 2.8) });
    }
    found.sort(function (x, y) { return y.size - x.size; });
    const best = function (wide) { return found.filter(function (g) { return g.wide === wide; }).slice(0, 2); };
    return best(false).concat(best(true));
  }

  // The largest font size (px, at most `max`) at which every node fits its box.
  function fit(nodes, max, min) {
    if (!nodes.length) return;
    const size = QMS.largestFitting(min || 8, max, function (px) {
      nodes.forEach(function (n) { n.style.fontSize = px + "px"; });
    }, function () { return nodes.every(QMS.showsAll); });
    // A little below the largest size that fits: later reflows (a badge refitted, a font that
    // arrived) move boxes by a pixel or two, and a number must never be clipped.
    nodes.forEach(function (n) { n.style.fontSize = Math.floor(size * 0.96) + "px"; });
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
      }
      if (grid.children[index] !== tile) grid.insertBefore(tile, grid.children[index] || null);
      // A closed or paused counter says so where its number would stand.
      const number = tile.querySelector(".tile-number");
      const stateText = c.state === "open" ? "" : langs.map(function (l) { return labels[l][c.state]; }).join(" ");
      setText(number, stateText || c.number || "—");
      number.classList.toggle("is-state", !!stateText);
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

  // "请 A013 号准备 · Next: A013": the number each shown service calls next.  A few numbers make a
  // sentence in each language; more (a large hall) are said once, after a short label per
  // language, so that they stay large enough to read from 10 m.
  const NEXT_SENTENCE_MAX = 3;
  function renderNext(snapshot, services) {
    const line = byId("next-line");
    const next = snapshot.next || {};
    const numbers = services.map(function (s) { return next[s.code]; }).filter(Boolean);
    line.hidden = !numbers.length;
    line.replaceChildren();
    if (!numbers.length) return;
    if (numbers.length <= NEXT_SENTENCE_MAX) {
      line.appendChild(bilingual("next-text", function (l) { return fill(l.next, { numbers: numbers.join(" ") }); }));
      return;
    }
    const text = el("span", "next-text next-many");
    text.appendChild(bilingual("next-label", function (l) { return l.next_label; }));
    text.appendChild(el("span", "next-numbers", numbers.join("  ")));
    line.appendChild(text);
  }

  // The admin's notice: one line, in the board's languages.  Longer than the line, it scrolls at a
  // reading pace whatever its length; short, it stands still.  Redraws that change neither the
  // text nor the screen leave a scrolling notice where it is.
  const NOTICE_SPEED_VMIN_S = 10;
  function renderNotice(snapshot) {
    const box = byId("notice");
    const notice = snapshot.notice || {};
    const texts = langs.map(function (lang) { return notice[lang]; }).filter(Boolean);
    box.hidden = !texts.length;
    const text = box.querySelector(".notice-text");
    setText(text, texts.join("   ·   "));
    const key = text.textContent + "@" + window.innerWidth + "x" + window.innerHeight;
    if (box.hidden || box.dataset.measured === key) return;
    box.dataset.measured = key;
    box.classList.remove("scrolling");
    const style = getComputedStyle(box);
    const room = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const scrolls = text.getBoundingClientRect().width > room + 1;
    if (scrolls) {
      const unit = Math.min(window.innerWidth, window.innerHeight) / 100;
      const width = text.getBoundingClientRect().width;
      const seconds = (width + room) / (NOTICE_SPEED_VMIN_S * unit);
      text.style.animationDuration = seconds + "s";
      // The first pass starts with the text's beginning at the left, not on an empty line.
      text.style.animationDelay = -(seconds * room) / (width + room) + "s";
      void text.offsetWidth;  // the animation starts again from the right
    }
    box.classList.toggle("scrolling", scrolls);
  }

  function applyGrid(grid, choice) {
    document.body.dataset.tiles = choice.wide ? "wide" : "tall";
    grid.style.gridTemplateColumns = "repeat(" + choice.cols + ", minmax(0, 1fr))";
    grid.style.gridTemplateRows = "repeat(" + choice.rows + ", minmax(0, 1fr))";
  }

  const all = function (selector) { return Array.prototype.slice.call(document.querySelectorAll(selector)); };
  let chosen = null;  // the grid in use, and the count and screen it was chosen for

  function fitTiles(choice, unit) {
    const numbers = all("#counters .tile-number:not(.is-state)");
    fit(numbers, Math.min(choice.size * 1.3, 36 * unit), 2 * unit);
    return numbers.length ? parseFloat(numbers[0].style.fontSize) : choice.size;
  }

  function layout() {
    const grid = byId("counters");
    const count = grid.children.length;
    const unit = Math.min(window.innerWidth, window.innerHeight) / 100;  // 1vmin
    document.body.dataset.size = count > 12 ? "large" : "small";
    const key = count + "@" + window.innerWidth + "x" + window.innerHeight;
    if (!chosen || chosen.key !== key) {
      // Try the likeliest grids for real and keep the one whose numbers came out largest.
      const area = byId("serving-area");
      const gap = parseFloat(getComputedStyle(grid).columnGap) || 0;
      let best = null;
      candidateGrids(count, area.clientWidth, area.clientHeight, gap, 3 * unit).forEach(function (choice) {
        applyGrid(grid, choice);
        const size = fitTiles(choice, unit);
        if (!best || size > best.achieved) best = { choice: choice, achieved: size };
      });
      chosen = { key: key, choice: best.choice };
    }
    applyGrid(grid, chosen.choice);
    fitTiles(chosen.choice, unit);
    const size = chosen.choice.size;
    fit(all("#counters .tile-number.is-state"), Math.min(size * 0.45, 6 * unit), 1.2 * unit);
    if (chosen.choice.wide) fit(all("#counters .counter-badge"), size * 0.8, 1.4 * unit);
    else fit(all("#counters .counter-name"), 4.2 * unit, 1.4 * unit);
    fit(all("#recent .recent-row:not(.latest)"), 5.2 * unit, 2.5 * unit);
    fit(all("#recent .latest"), 14 * unit, 3 * unit);
    fit(all("#waiting .waiting-row"), 3.6 * unit, 1.6 * unit);
    fit(all("#next-line .next-text"), 4 * unit, 2 * unit);
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
  // Text is measured in the fonts it is shown in: measure again once they have loaded.
  if (document.fonts) document.fonts.ready.then(function () {
    chosen = null;
    delete byId("notice").dataset.measured;
    renderNotice(lastSnapshot);
    layout();
  });
  // A board that was cut off for long reloads once the server answers again: whatever changed
  // meanwhile (its scripts, its layout, the hall's set-up), no stale page stays up on the wall.
  // It reloads only when the page itself answers, never into a browser error page.
  const RELOAD_AFTER_MS = (config.reload_after_s || 60) * 1000;
  let downSince = null;
  function reloadWhenReachable() {
    fetch(window.location.href, { cache: "no-store" }).then(function (r) {
      if (r.ok) window.location.reload();
      else setTimeout(reloadWhenReachable, 5000);
    }).catch(function () { setTimeout(reloadWhenReachable, 5000); });
  }
  function linkChanged(up) {
    byId("link-state").hidden = up;
    if (!up) {
      if (downSince === null) downSince = Date.now();
      return;
    }
    if (downSince !== null && Date.now() - downSince > RELOAD_AFTER_MS) reloadWhenReachable();
    downSince = null;
  }

  const soundOn = function () { return !!audio && audio.state === "running"; };
  let sendHeartbeat = null;
  byId("sound-on").addEventListener("click", function () {
    unlockAudio();
    if (sendHeartbeat) setTimeout(sendHeartbeat, 300);  // the supervisor sees the sound come on
  });
  unlockAudio();
  const socket = QMS.connect({ room: "display" }, {
    "display:snapshot": render,
    "display:call": function (call) {
      if (shownService(call.service) && shownCounter(call.counter_id)) announce(call);
    },
  }, linkChanged);
  sendHeartbeat = QMS.heartbeat(socket, "board", function () { return { sound: soundOn() }; });

  const clock = byId("clock");
  const format = new Intl.DateTimeFormat(config.speech[langs[0]], {
    timeZone: clock.dataset.tz, hour: "2-digit", minute: "2-digit", weekday: "short", month: "short", day: "numeric",
  });
  const paint = function () { clock.textContent = format.format(new Date()); };
  paint();
  setInterval(paint, 1000);
})();
