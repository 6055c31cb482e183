// The screen above one window: drawn from the `window:update` its room gets on every change
// at this counter (and in full on every (re)connect); each line shrinks until it fits its box.
(function () {
  "use strict";
  const root = document.getElementById("window");
  const linkState = document.getElementById("link-state");
  const SIZES = { "w-name": [2, 12], "w-number": [6, 48], "w-state": [2, 9], "w-clerk": [1.5, 7] };

  function fit() {
    Object.keys(SIZES).forEach(function (id) {
      const node = document.getElementById(id);
      const range = SIZES[id];
      QMS.largestFitting(range[0], range[1], function (v) { node.style.fontSize = v + "vmin"; },
        function () { return QMS.showsAll(node); });
    });
  }
  function stateLine(screen) {
    if (screen.state === "paused") return "暂停服务 · Paused";
    if (screen.state === "closed") return "窗口关闭 · Closed";
    if (screen.number) return "请 " + screen.number + " 号办理 · Now serving " + screen.number;
    return "请等候叫号 · Please wait for your number";
  }
  function draw(screen) {
    root.dataset.state = screen.state;
    const name = screen.counter.name;
    // A window named by its number reads "3 号窗口 · Counter 3"; one with a name of its own, by it.
    document.getElementById("w-name").textContent = /^\d+$/.test(name) ? name + " 号窗口 · Counter " + name : name;
    document.getElementById("w-number").textContent = screen.number || "—";
    document.getElementById("w-state").textContent = stateLine(screen);
    document.getElementById("w-clerk").textContent = screen.clerk
      ? screen.clerk.name + " · 工号 Staff No. " + screen.clerk.staff_number : "";
    fit();
  }

  fit();
  window.addEventListener("resize", fit);
  const socket = QMS.connect({ room: "window", counter_id: parseInt(root.dataset.counterId, 10) },
    { "window:update": draw }, function (up) { linkState.hidden = up; });
  QMS.heartbeat(socket, "window");
})();
