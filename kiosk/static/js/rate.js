// The counter-facing rating screen: a finished visit asks for one touch (the level), then
// optionally three dimensions and a comment; it sends by itself if the visitor walks away.
(function () {
  "use strict";
  const root = document.getElementById("rate");
  const csrf = document.querySelector("meta[name=csrf-token]").content;
  let choice = {};
  let timer = null;
  let left = 0;

  function show(state) { root.dataset.state = state; }
  function reset() {
    choice = {};
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
  function send() {
    if (timer) clearInterval(timer);
    timer = null;
    const body = new URLSearchParams({ token: root.dataset.token, comment: document.getElementById("rate-comment").value });
    Object.keys(choice).forEach(function (k) { body.append(k, String(choice[k])); });
    fetch(root.dataset.post, { method: "POST", headers: { "X-CSRFToken": csrf }, body: body })
      .finally(function () {
        show("thanks");
        setTimeout(function () { if (root.dataset.state === "thanks") show("idle"); }, 5000);
      });
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

  QMS.connect({ room: "counter", counter_id: parseInt(root.dataset.counterId, 10) }, {
    "rate:request": function (prompt) { if (prompt.token !== root.dataset.token || root.dataset.state === "idle") ask(prompt); },
    "rate:idle": function () { if (root.dataset.state === "ask") show("idle"); },
  });
})();
