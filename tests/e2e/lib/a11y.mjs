// a11y.mjs: a page's accessibility faults, found in the page itself
// (page.evaluate(audit)): one h1; every form control has a name a screen
// reader reads; no empty links; unique ids; text contrast at least 4.5:1
// (WCAG 2 luminance); nothing wider than the screen.
export function audit() {
  const faults = [];
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const named = (el) => (el.labels && [...el.labels].some((l) => l.textContent.trim()))
    || el.getAttribute('aria-label')?.trim() || el.getAttribute('aria-labelledby')
    || (el.type === 'submit' || el.tagName === 'BUTTON') && el.textContent.trim();
  const where = (el) => `${el.tagName.toLowerCase()}[name=${el.getAttribute('name') || ''}]`;
  const h1 = [...document.querySelectorAll('h1')].filter(visible);
  if (h1.length !== 1)
    faults.push(`${h1.length} visible h1`);
  for (const el of document.querySelectorAll('input, select, textarea, button'))
    if (visible(el) && el.type !== 'hidden' && !named(el))
      faults.push(`unnamed ${where(el)}`);
  for (const a of document.querySelectorAll('a[href]'))
    if (visible(a) && !a.textContent.trim() && !a.getAttribute('aria-label'))
      faults.push(`empty link ${a.getAttribute('href')}`);
  const ids = new Map();
  for (const el of document.querySelectorAll('[id]'))
    ids.set(el.id, (ids.get(el.id) || 0) + 1);
  for (const [id, n] of ids)
    if (n > 1)
      faults.push(`id ${id} used ${n} times`);
  // Text contrast (WCAG 2 relative luminance) against the first opaque
  // background behind it: at least 4.5:1 for every piece of text.
  const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b_]) => [r, g, b_].map((v) => v / 255)
    .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
    .reduce((a, v, i) => a + v * [0.2126, 0.7152, 0.0722][i], 0);
  const bg = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || c[3] === 1)
        return c;
    }
    return [255, 255, 255];
  };
  for (const el of document.querySelectorAll('main *, header *')) {
    if (!visible(el) || ![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()))
      continue;
    if (el.disabled || el.closest('[disabled]'))
      continue;   // disabled controls are exempt (WCAG 1.4.3)
    const [a, c] = [lum(rgb(getComputedStyle(el).color)), lum(bg(el))];
    const ratio = (Math.max(a, c) + 0.05) / (Math.min(a, c) + 0.05);
    if (ratio < 4.5)
      faults.push(`contrast ${ratio.toFixed(2)}:1 for "${el.textContent.trim().slice(0, 30)}"`);
  }
  if (document.documentElement.scrollWidth > window.innerWidth + 1)
    faults.push(`page ${document.documentElement.scrollWidth}px wide on a ${window.innerWidth}px screen`);
  return faults;
}
