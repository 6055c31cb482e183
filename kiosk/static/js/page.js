// Small behaviours of every page, kept out of the HTML: the Content-Security-Policy allows no
// inline script (no onclick=, no onsubmit=).  Delegated, so content swapped in by HTMX has them.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    if (target.closest("[data-print]")) {
      window.print();
      return;
    }
    const emptier = target.closest("[data-empties]");
    if (emptier) {
      const place = document.getElementById(emptier.getAttribute("data-empties"));
      if (place) place.innerHTML = "";
    }
  });
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.hasAttribute("data-confirm") && !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
})();
