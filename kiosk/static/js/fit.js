// Fitting text to its box, shared by the screens read from afar (board, kiosk): the largest
// value in [lo, hi] for which `fits()` holds once `apply(value)` is done, by bisection.
(function () {
  "use strict";
  window.QMS = window.QMS || {};
  window.QMS.largestFitting = function (lo, hi, apply, fits) {
    apply(hi);
    if (fits()) return hi;
    for (let i = 0; i < 12 && hi - lo > 0.005 * hi; i++) {
      const mid = (lo + hi) / 2;
      apply(mid);
      if (fits()) lo = mid; else hi = mid;
    }
    apply(lo);
    return lo;
  };
  // Whether a box shows all of its content (a pixel of rounding allowed).
  window.QMS.showsAll = function (node) {
    return node.scrollWidth <= node.clientWidth + 1 && node.scrollHeight <= node.clientHeight + 1;
  };
})();
