// What a screen read from afar shows, measured: the boxes (selector `boxes`) that lie outside
// the screen or `within`, that overlap each other or that do not show all of their content.
// Evaluated by the layout tests in tests/browser/.
([boxes, within]) => {
  const inside = (a, b) => a.left >= b.left - 1 && a.right <= b.right + 1 && a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
  const view = {left: 0, top: 0, right: innerWidth, bottom: innerHeight};
  const area = within ? document.querySelector(within).getBoundingClientRect() : view;
  const nodes = [...document.querySelectorAll(boxes)];
  const rects = nodes.map(n => n.getBoundingClientRect());
  const problems = [];
  const name = n => (n.dataset.service || n.dataset.counterId || n.textContent).trim().slice(0, 30);
  rects.forEach((r, i) => {
    if (!inside(r, area) || !inside(r, view)) problems.push(name(nodes[i]) + ' outside the screen');
    if (nodes[i].scrollWidth > nodes[i].clientWidth + 1 || nodes[i].scrollHeight > nodes[i].clientHeight + 1)
      problems.push(name(nodes[i]) + ' does not show all of its content');
    rects.forEach((o, j) => {
      if (j > i && r.left < o.right - 1 && o.left < r.right - 1 && r.top < o.bottom - 1 && o.top < r.bottom - 1)
        problems.push(name(nodes[i]) + ' overlaps ' + name(nodes[j]));
    });
  });
  const vmin = Math.min(innerWidth, innerHeight) / 100;
  return {problems, count: nodes.length, vmin, scrollable: document.documentElement.scrollHeight > innerHeight + 1,
          min_height_vmin: Math.min(...rects.map(r => r.height)) / vmin};
}
