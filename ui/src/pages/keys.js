// Keys: API keys and their roles, for admins. Until the server has API keys (/api/v1/keys answers
// 404) the page says so instead of failing.
import {h, fill, table, errorBox, notice, section, when} from '../dom.js';
import {api} from '../api.js';

export async function render(ctx) {
  const response = await api('/api/v1/keys', {raw: true, accept: [404]});
  if (!ctx.alive()) return;
  if (response.status === 404) {
    fill(ctx.root, h('h1', null, 'Keys'), notice('API keys are not enabled on this server.', 'info'),
      h('p', {class: 'muted', 'data-testid': 'keys-disabled'}, 'Every request is allowed without a key. When this server gets API keys, admins will create and revoke them here, and each key\'s role (viewer, operator, admin) will decide what it may do.'));
    return;
  }
  const keys = Array.isArray(response.body) ? response.body : response.body?.keys;
  if (!Array.isArray(keys)) {
    fill(ctx.root, h('h1', null, 'Keys'), errorBox({title: 'Unexpected answer:', message: 'GET /api/v1/keys did not return a list of keys.',
      hint: 'This UI may be older than the server: reload the page.'}));
    return;
  }
  const columns = [...new Set(keys.flatMap(k => Object.keys(k)))].filter(c => !/secret|hash|token/i.test(c));
  fill(ctx.root, h('h1', null, 'Keys'), section(`${keys.length} key(s)`, table(columns.map(c => ({label: c, cell: k => /_at$/.test(c) ? when(k[c]) : (typeof k[c] === 'object' ? JSON.stringify(k[c]) : k[c] ?? '')})), keys, {testid: 'keys-table'})));
}
