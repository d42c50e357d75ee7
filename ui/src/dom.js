// Small DOM helpers: elements are built as nodes (never from HTML strings), so names and values
// coming from the server are always text.

// h('a', {href: '#/x', class: 'btn', onclick: fn}, 'text', child, [more]) -> element
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
      else if (key === 'class') el.className = value;
      else if (key === 'dataset') Object.assign(el.dataset, value);
      else if (key === 'value') el.value = value;
      else if (key === 'checked' || key === 'selected' || key === 'disabled') el[key] = Boolean(value);
      else el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// Replaces the element's children.
export function fill(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

// A table: columns [{label, cell: row => node|text, class?}], rows.
export function table(columns, rows, options = {}) {
  return h('table', {class: options.class || 'grid', 'data-testid': options.testid},
    h('thead', null, h('tr', null, columns.map(c => h('th', {class: c.class}, c.label)))),
    h('tbody', null, rows.length === 0
      ? h('tr', null, h('td', {colspan: columns.length, class: 'muted'}, options.empty || 'Nothing yet.'))
      : rows.map(row => h('tr', options.rowAttrs ? options.rowAttrs(row) : null, columns.map(c => h('td', {class: c.class}, c.cell(row)))))));
}

// A box saying what went wrong and how to fix it.
export function errorBox(error) {
  return h('div', {class: 'error', role: 'alert'},
    h('strong', null, error.title || 'Something went wrong'), ' ', error.message || String(error),
    error.hint ? h('div', {class: 'hint'}, error.hint) : null);
}

export function notice(text, kind = 'info') {
  return h('div', {class: `notice ${kind}`, role: 'status'}, text);
}

export function section(title, ...children) {
  return h('section', {class: 'card'}, h('h2', null, title), ...children);
}

export function chip(text, kind = '') {
  return h('span', {class: `chip ${kind}`}, text);
}

export function statusChip(status) {
  const kinds = {ok: 'good', watch: 'warn', alert: 'bad', not_enough_data: 'muted', no_profile: 'muted', profile_unreadable: 'bad'};
  const labels = {ok: 'ok', watch: 'watch', alert: 'ALERT', not_enough_data: 'not enough data', no_profile: 'no reference profile',
                  profile_unreadable: 'profile unreadable'};
  return h('span', {class: `chip ${kinds[status] || ''}`, 'data-status': status}, labels[status] || status || '—');
}

// A modal confirmation: resolves true when confirmed. `body` is a node explaining what will change.
export function confirmDialog(title, body, confirmLabel = 'Confirm') {
  return new Promise(resolve => {
    const dialog = h('dialog', {class: 'confirm', 'data-testid': 'confirm-dialog'},
      h('h2', null, title), body,
      h('div', {class: 'actions'},
        h('button', {type: 'button', class: 'secondary', onclick: () => { dialog.close(); resolve(false); }}, 'Cancel'),
        h('button', {type: 'button', 'data-testid': 'confirm', onclick: () => { dialog.close(); resolve(true); }}, confirmLabel)));
    dialog.addEventListener('close', () => { dialog.remove(); resolve(false); });
    document.body.append(dialog);
    dialog.showModal();
  });
}

// Formatting.
export function num(value, digits = 3) {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  if (typeof value !== 'number') return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return value.toLocaleString('en-US');
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e12)) return value.toExponential(2);
  return value.toLocaleString('en-US', {maximumFractionDigits: abs >= 1000 ? 0 : digits});
}
export function percent(value, digits = 1) {
  return value === null || value === undefined || Number.isNaN(value) ? '—' : `${(value * 100).toFixed(digits)}%`;
}
export function micros(us) {
  if (us === null || us === undefined || Number.isNaN(us)) return '—';
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(us < 10 ? 1 : 0)} µs`;
}
export function bytes(n) {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; ++i; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}
export function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}
export function shortSha(sha) {
  return sha ? sha.slice(0, 12) : '—';
}
// Page navigation helpers.
export function link(href, text, attrs = {}) {
  return h('a', {href, ...attrs}, text);
}
