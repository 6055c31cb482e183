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
    if (button) { event.preventDefault(); button.click(); }
  });

  const counterPage = document.querySelector(".counter-page[data-counter-id]");
  const supervisorPage = document.querySelector("[data-supervisor]");
  let pending = null;
  function changed() {
    if (pending) return;
    pending = setTimeout(function () { pending = null; htmx.trigger(document.body, "queue-changed"); }, 300);
  }
  if (counterPage && document.getElementById("queue-panel")) {
    QMS.connect({ room: "counter", counter_id: parseInt(counterPage.dataset.counterId, 10) }, { "queue:changed": changed });
  } else if (supervisorPage) {
    QMS.connect({ room: "supervisor" }, { "queue:changed": changed });
  }
})();
