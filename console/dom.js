// Building the page without innerHTML or inline styles (the console's CSP allows neither).

/** An element: `attrs` are attributes (on*: listeners, dataset: data-*), children strings or nodes. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'className') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** A table: `columns` are [header, cell(row), className?]. */
export function table(columns, rows, rowAttrs = () => ({})) {
  return h('div', { className: 'scroll' }, h('table', {},
    h('thead', {}, h('tr', {}, columns.map(([title, , cls]) => h('th', { className: cls }, title)))),
    h('tbody', {}, rows.map((r) => h('tr', rowAttrs(r), columns.map(([, cell, cls]) => h('td', { className: cls }, cell(r)))))),
  ));
}

export const time = (iso) => (iso ? new Date(iso).toISOString().replace('T', ' ').slice(0, 19) : '–');
export const num = (v, digits = 0) => (v === null || v === undefined ? '–' : Number(v).toFixed(digits));
export const pct = (v) => (v === null || v === undefined ? '–' : (v * 100).toFixed(1) + ' %');
export const kbps = (v) => (v === null || v === undefined ? '–' : (v / 1000).toFixed(0) + ' kbit/s');
export const minutes = (seconds) => (seconds / 60).toFixed(2);
