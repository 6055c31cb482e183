// The counter's rating tablet: a finished visit asks for one touch (the level), then optionally
// three dimensions and a comment; it sends by itself if the visitor walks away. It says thanks
// only once the server stored the rating; otherwise it says what went wrong and tries again.
(function () {
  "use strict";
  const root = document.getElementById("rate");
  const csrfMeta = document.querySelector("meta[name=csrf-token]");
  const RETRY_MS = 3000;
  const RETRIES = 20;
  let choice = {};
  let timer = null;
  let retry = null;
  let tries = 0;
  let left = 0;

  const PROBLEMS = {
    network: "评价尚未保存：无法连接服务器 · Your rating is not saved yet: the server cannot be reached",
    server: "评价尚未保存：服务器出错 · Your rating is not saved yet: the server had a problem",
    nothing_to_rate: "本次服务已无法在此评价 · This visit can no longer be rated here",
    unknown_tablet: "本评价器未登记或已被撤销，请联系工作人员 · This tablet is not registered; please tell the staff",
    invalid_input: "请选择一个表情 · Please choose one of the faces",
  };

  function show(state) { root.dataset.state = state; }
  function stopRetry() { if (retry) clearTimeout(retry); retry = null; }
  function reset() {
    choice = {};
    tries = 0;
    stopRetry();
    root.querySelectorAll(".chosen").forEach(function (b) { b.classList.remove("chosen"); });
    document.getElementById("rate-comment").value = "";
    if (timer) clearInterval(timer);
    timer = null;
  }
  function ask(prompt) {
    reset();
    root.dataset.token = prompt.token;
    document.getElementById("rate-number").textContent = prompt.number;
    show("ask");
  }
  function later(state, ms) {
    setTimeout(function () { if (root.dataset.state === state) show("idle"); }, ms);
  }
  function failed(kind, again) {
    document.getElementById("rate-problem").textContent = PROBLEMS[kind] || PROBLEMS.server;
    const note = document.getElementById("rate-retrying");
    document.getElementById("rate-retry").hidden = !again;
    show("failed");
    if (again && tries < RETRIES) {
      note.textContent = "正在重试… · Trying again…";
      retry = setTimeout(send, RETRY_MS);
    } else {
      note.textContent = "";
      if (!again) later("failed", 6000);
    }
  }
  function send() {
    if (timer) clearInterval(timer);
    timer = null;
    stopRetry();
    tries += 1;
    const body = { ticket: root.dataset.token, score: choice.score };
    ["efficiency", "level", "attitude"].forEach(function (k) { if (choice[k]) body[k] = choice[k]; });
    const comment = document.getElementById("rate-comment").value.trim();
    if (comment) body.comment = comment;
    const headers = { "Content-Type": "application/json" };
    if (csrfMeta) headers["X-CSRFToken"] = csrfMeta.content;
    fetch(root.dataset.post, { method: "POST", headers: headers, body: JSON.stringify(body), credentials: "omit" })
      .then(function (response) {
        if (response.status === 201) {
          show("thanks");
          later("thanks", 5000);
          return;
        }
        return response.json().catch(function () { return {}; }).then(function (answer) {
          const code = (answer && answer.error && answer.error.code) || "";
          if (code === "already_rated") { show("thanks"); later("thanks", 5000); }
          else if (response.status === 422) { failed("invalid_input", false); setTimeout(function () { show("more"); }, 3000); }
          else if (response.status >= 500 || response.status === 429) failed("server", true);
          else failed(code in PROBLEMS ? code : "server", false);
        });
      })
      .catch(function () { failed("network", true); });
  }
  function countdown() {
    left = 20;
    const shown = root.querySelector(".send .countdown");
    timer = setInterval(function () {
      left -= 1;
      shown.textContent = "(" + left + ")";
      if (left <= 0) send();
    }, 1000);
  }

  root.querySelectorAll(".ask .face").forEach(function (button) {
    button.addEventListener("click", function () {
      choice.score = parseInt(button.dataset.score, 10);
      show("more");
      countdown();
    });
  });
  root.querySelectorAll(".dim").forEach(function (row) {
    row.querySelectorAll(".mini").forEach(function (button) {
      button.addEventListener("click", function () {
        row.querySelectorAll(".mini").forEach(function (b) { b.classList.remove("chosen"); });
        button.classList.add("chosen");
        choice[row.dataset.dim] = parseInt(button.dataset.score, 10);
        left = 20;
      });
    });
  });
  document.getElementById("rate-send").addEventListener("click", send);
  document.getElementById("rate-retry").addEventListener("click", function () { tries = 0; send(); });

  const socket = QMS.connect({ room: "tablet", device: root.dataset.device }, {
    "rate:request": function (prompt) {
      if (root.dataset.state === "failed" && prompt.token === root.dataset.token) return;
      if (prompt.token !== root.dataset.token || root.dataset.state === "idle") ask(prompt);
    },
    "rate:idle": function () { if (root.dataset.state === "ask") show("idle"); },
  });
  QMS.heartbeat(socket, "tablet");  // named by its registration (data-device-name), never its token
})();
