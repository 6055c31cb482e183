// Staff pages: refusals (4xx) are shown, not dropped; keyboard shortcuts; live refresh signals.
(function () {
  "use strict";
  // No CSS transitions here: new buttons are live at once, so a quick key press is never lost.
  htmx.config.defaultSettleDelay = 0;
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "4..", swap: true, error: false },
    { code: "...", swap: false, error: true },
  ];
  const toast = document.getElementById("toast");
  function say(text) {
    toast.textContent = text;
    toast.classList.add("show");
    setTimeout(function () { toast.classList.remove("show"); }, 4000);
  }
  document.body.addEventListener("htmx:sendError", function () { say("The server cannot be reached. · 无法连接服务器。"); });
  document.body.addEventListener("htmx:responseError", function (e) {
    if (e.detail.xhr.status === 401) window.location = "/login?next=" + encodeURIComponent(location.pathname);
    else say("Something went wrong (" + e.detail.xhr.status + "). · 操作失败。");
  });

  // One key per action, as printed on the buttons; never while typing.
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") return;
    const key = event.key.toLowerCase();
    if (key === "c") {
      const field = document.querySelector(".call-specific input[name=number]");
      if (field) { field.focus(); event.preventDefault(); }
      return;
    }
    const button = document.querySelector("button[data-key='" + key + "']:not([disabled])");
    if (button) { event.preventDefault(); button.click(); return; }
    // A key whose button is off says why, rather than doing nothing silently.
    const off = document.querySelector("button[data-key='" + key + "'][disabled]");
    const workspace = document.getElementById("workspace");
    if (key === "n" && off && workspace) {
      event.preventDefault();
      if (workspace.dataset.state === "paused") say("暂停服务中，请先按 P 恢复服务 · The counter is paused: press P to resume first.");
      else say("请先办结当前号票 · Finish the visitor at the counter first.");
    }
  });

  // F opens the visit record below: bring it into view, ready to type.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "record") {
      const first = document.querySelector("#record-form input:not([type=hidden]), #record-form textarea, #record-form select");
      if (first) {
        first.scrollIntoView({ block: "center" });
        first.focus({ preventScroll: true });
      }
    }
  });

  // T (and the button) ask first, naming the service the visitor is sent to.
  document.body.addEventListener("htmx:confirm", function (event) {
    const form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("form.transfer");
    if (!form) return;
    const option = form.querySelector("select[name=service]").selectedOptions[0];
    if (!option) return;
    event.preventDefault();
    const number = form.dataset.number;
    const label = option.dataset.label || option.textContent;
    if (window.confirm("将 " + number + " 转至 " + label + "？ · Transfer " + number + " to " + label + "?")) {
      event.detail.issueRequest(true);
    }
  });

  const counterPage = document.querySelector(".counter-page[data-counter-id]");
  const supervisorPage = document.querySelector("[data-supervisor]");
  let pending = null;
  function changed() {
    if (pending) return;
    pending = setTimeout(function () { pending = null; htmx.trigger(document.body, "queue-changed"); }, 300);
  }
  // The counter changed elsewhere (the API, another tab, the supervisor): redraw the workspace
  // when what it shows changed, keeping the clerk's message and typing otherwise.
  let looking = null;
  function counterChanged(signal) {
    const id = parseInt(counterPage.dataset.counterId, 10);
    if (!(signal.settings || (signal.counters || []).indexOf(id) >= 0)) return;
    if (looking) return;
    looking = setTimeout(function () {
      looking = null;
      fetch(counterPage.dataset.live + "?layout=" + encodeURIComponent(counterPage.dataset.layout), {
        headers: { "HX-Request": "true" }, credentials: "same-origin",
      }).then(function (response) {
        if (response.status === 205) { window.location.reload(); return; }
        if (response.status === 401 || response.redirected) { window.location = "/login?next=" + encodeURIComponent(location.pathname); return; }
        if (!response.ok) return;
        return response.text().then(function (html) {
          const shown = document.getElementById("workspace");
          if (!shown) return;
          const holder = document.createElement("template");
          holder.innerHTML = html.trim();
          const fresh = holder.content.getElementById("workspace");
          if (!fresh || fresh.dataset.sig === shown.dataset.sig) return;
          shown.replaceWith(fresh);
          htmx.process(fresh);
          const form = document.querySelector("#record-form input[name=token]");
          const held = fresh.querySelector(".transfer input[name=token]");
          if (form && (!held || held.value !== form.value)) document.getElementById("record").innerHTML = "";
        });
      }).catch(function () { /* the next signal or the 30 s poll tries again */ });
    }, 300);
  }
  if (counterPage) {
    QMS.connect({ room: "counter", counter_id: parseInt(counterPage.dataset.counterId, 10) }, {
      "queue:changed": function (signal) { changed(); counterChanged(signal || {}); },
    });
  } else if (supervisorPage) {
    QMS.connect({ room: "supervisor" }, { "queue:changed": changed });
  }
})();
