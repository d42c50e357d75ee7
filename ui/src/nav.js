// Hash URLs of the UI's pages: href(['models', 'churn'], {v: '1,2'}) -> '#/models/churn?v=1%2C2'.
export function href(parts, query) {
  const q = query ? new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== '')).toString() : '';
  return '#/' + parts.map(p => encodeURIComponent(String(p))).join('/') + (q ? '?' + q : '');
}
export function go(parts, query) {
  location.hash = href(parts, query);
}
