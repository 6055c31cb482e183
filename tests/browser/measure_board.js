// Everything the board shows, measured: what overflows, what lies outside its box, the sizes.
// Evaluated by tests/browser/test_board_layout.py in the page.
() => {
  const inside = (a, b) => a.left >= b.left - 1 && a.right <= b.right + 1 && a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
  const problems = [];
  const view = {left: 0, top: 0, right: innerWidth, bottom: innerHeight};
  const area = document.getElementById('serving-area').getBoundingClientRect();
  const tiles = [...document.querySelectorAll('.counter-tile')];
  const rects = tiles.map(t => t.getBoundingClientRect());
  rects.forEach((r, i) => {
    if (!inside(r, area)) problems.push('tile ' + tiles[i].dataset.counterId + ' outside the serving area');
    rects.forEach((o, j) => {
      if (j > i && r.left < o.right - 1 && o.left < r.right - 1 && r.top < o.bottom - 1 && o.top < r.bottom - 1)
        problems.push('tiles ' + tiles[i].dataset.counterId + ' and ' + tiles[j].dataset.counterId + ' overlap');
    });
  });
  const boxes = '.counter-tile, .recent, .waiting, .board-foot, .board-head, .serving';
  const texts = ['.tile-number', '.counter-name', '.counter-badge', '.recent-row', '.waiting-row',
                 '.next-text', '.section-title', '.board-head h1', '.clock'];
  for (const selector of texts) {
    for (const node of document.querySelectorAll(selector)) {
      if (node.offsetParent === null || !node.textContent.trim()) continue;  // not shown in this layout
      if (node.scrollWidth > node.clientWidth + 1 || node.scrollHeight > node.clientHeight + 1)
        problems.push(selector + ' overflows: ' + node.textContent);
      const box = node.parentElement.closest(boxes);
      const r = node.getBoundingClientRect();
      if (box && !inside(r, box.getBoundingClientRect())) problems.push(selector + ' outside its box: ' + node.textContent);
      if (!inside(r, view)) problems.push(selector + ' off the screen: ' + node.textContent);
    }
  }
  const px = node => parseFloat(getComputedStyle(node).fontSize);
  const numbers = tiles.map(t => t.querySelector('.tile-number')).filter(n => !n.classList.contains('is-state')).map(px);
  const latest = document.querySelector('#recent .latest .recent-number');
  // The footer's lines (next numbers, the admin's notice) never reach into the tiles.
  const main = document.querySelector('.board-main').getBoundingClientRect();
  for (const line of document.querySelectorAll('.board-foot > *')) {
    if (line.offsetParent === null) continue;
    const r = line.getBoundingClientRect();
    if (r.top < main.bottom - 1) problems.push(line.id + ' overlaps the board');
    if (!inside(r, view)) problems.push(line.id + ' off the screen');
  }
  const next = document.querySelector('#next-line .next-text');
  const shownNext = next && next.offsetParent !== null;
  return {
    problems, tiles: tiles.length, vmin: Math.min(innerWidth, innerHeight) / 100,
    number_px: Math.min(...numbers), latest_px: latest ? px(latest) : null,
    numbers: tiles.map(t => t.querySelector('.tile-number').textContent),
    next_text: shownNext ? next.textContent : null, next_px: shownNext ? px(next) : null,
  };
}
