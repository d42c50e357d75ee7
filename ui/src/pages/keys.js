// Keys: API keys and their roles, for admins: the list, a new key (its token shown once), revoking.
// Until the server has API keys (/api/v1/keys answers 404) the page says so instead of failing.
import {h, fill, table, errorBox, notice, section, chip, when, confirmDialog} from '../dom.js';
import {api, enc} from '../api.js';

const ROLES = ['viewer', 'predictor', 'deployer', 'admin'];

export async function render(ctx) {
  const response = await api('/api/v1/keys', {raw: true, accept: [404]});
  if (!ctx.alive()) return;
  if (response.status === 404) {
    fill(ctx.root, h('h1', null, 'Keys'), notice('API keys are not enabled on this server.', 'info'),
      h('p', {class: 'muted', 'data-testid': 'keys-disabled'}, 'Every request is allowed without a key. When this server has API keys, admins create and revoke them here, and each key\'s role decides what it may do.'));
    return;
  }
  const keys = Array.isArray(response.body) ? response.body : response.body?.keys;
  if (!Array.isArray(keys)) {
    fill(ctx.root, h('h1', null, 'Keys'), errorBox({title: 'Unexpected answer:', message: 'GET /api/v1/keys did not return a list of keys.',
      hint: 'This page may be older than the server: reload it.'}));
    return;
  }
  const messages = h('div', {'data-testid': 'keys-messages'});
  const role = h('select', {'data-testid': 'key-role'}, ROLES.map(r => h('option', {value: r}, r)));
  const name = h('input', {type: 'text', placeholder: 'web-shop', 'data-testid': 'key-name'});
  const endpoints = h('input', {type: 'text', placeholder: 'churn, iris (predictor keys only)'});
  const expires = h('input', {type: 'text', placeholder: '90d (empty: never)'});
  const rate = h('input', {type: 'number', min: 0, step: 'any', placeholder: 'requests/s (empty: none)'});
  const create = h('button', {type: 'submit', 'data-testid': 'key-create'}, 'Create key');
  const form = h('form', {class: 'row', onsubmit: async e => {
    e.preventDefault();
    const body = {role: role.value, name: name.value.trim()};
    const list = endpoints.value.split(',').map(x => x.trim()).filter(Boolean);
    if (list.length) body.endpoints = list;
    if (expires.value.trim()) body.expires = expires.value.trim();
    if (rate.value.trim()) body.rate_limit = Number(rate.value);
    try {
      const key = await api('/api/v1/keys', {method: 'POST', body});
      await render(ctx);
      fill(document.querySelector('[data-testid=keys-messages]'), h('div', {class: 'notice good', 'data-testid': 'key-token'},
        h('strong', null, `Key "${key.name}" (${key.role}) created. `), 'Its token is shown this once: copy it now.',
        h('pre', null, key.token)));
    } catch (err) {
      fill(messages, errorBox(err));
    }
  }}, h('label', null, 'Role', role), h('label', null, 'Name', name), h('label', null, 'Endpoints', endpoints),
    h('label', null, 'Expires after', expires), h('label', null, 'Rate limit', rate), create);
  const revoke = async key => {
    const ok = await confirmDialog(`Revoke key "${key.name}"?`, h('p', null,
      `Requests with this ${key.role} key are refused from now on; the key cannot be restored (create a new one instead).`), 'Revoke');
    if (!ok) return;
    try {
      await api(`/api/v1/keys/${enc(key.id)}`, {method: 'DELETE'});
      await render(ctx);
    } catch (err) {
      fill(messages, errorBox(err));
    }
  };
  fill(ctx.root, h('h1', null, 'Keys'), messages,
    section(`${keys.length} key(s)`, table([
      {label: 'Name', cell: k => k.name},
      {label: 'Role', cell: k => chip(k.role, k.role === 'admin' ? 'warn' : '')},
      {label: 'Endpoints', cell: k => (k.endpoints || []).join(', ') || 'all'},
      {label: 'Created', cell: k => `${when(k.created_at)}${k.created_by ? ' by ' + k.created_by : ''}`},
      {label: 'Expires', cell: k => k.expires_at ? when(typeof k.expires_at === 'number' ? new Date(k.expires_at * 1000).toISOString() : k.expires_at) : 'never'},
      {label: 'Rate limit', cell: k => k.rate_limit ? `${k.rate_limit}/s` : '—'},
      {label: 'Status', cell: k => k.revoked_at ? chip('revoked', 'muted') : chip('active', 'good')},
      {label: '', cell: k => k.revoked_at ? '' : h('button', {type: 'button', class: 'secondary', onclick: () => revoke(k)}, 'Revoke…')},
    ], keys, {testid: 'keys-table', empty: 'No keys yet: create the first admin key below (or with `orchard keys create --role admin`).'})),
    section('New key', form));
}
