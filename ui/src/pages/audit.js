// Audit log: every change to the registry and the routes, newest first, with who, when, before and after.
import {h, fill, table, section, when} from '../dom.js';
import {api, enc} from '../api.js';
import {go} from '../nav.js';

const STEP = 100;

export async function render(ctx) {
  const target = ctx.query.get('target') || '';
  const limit = Math.max(STEP, Number(ctx.query.get('limit')) || STEP);
  const events = await api(`/api/v1/audit?limit=${limit}${target ? `&target=${enc(target)}` : ''}`);
  if (!ctx.alive()) return;
  const input = h('input', {type: 'search', value: target, placeholder: 'churn, churn:2, churn@production, endpoint:churn', size: 40, 'data-testid': 'audit-target'});
  const summary = e => {
    const a = e.after, b = e.before;
    if (e.action.startsWith('alias') && a) return `${a.alias ?? ''} → v${a.version ?? a.to_version ?? '?'}${b && b.version ? ` (was v${b.version})` : ''}`;
    if (e.action === 'endpoint.route') return a ? (a.arms || []).map(x => `${x.target} ${x.weight}`).join(', ') : 'reset to default';
    return '';
  };
  const details = e => h('details', null, h('summary', null, 'before / after'),
    h('pre', null, `before: ${JSON.stringify(e.before, null, 2)}\nafter: ${JSON.stringify(e.after, null, 2)}`));
  fill(ctx.root, h('h1', null, 'Audit log'),
    section('Events', h('form', {class: 'row', onsubmit: e => { e.preventDefault(); go(['audit'], {target: input.value.trim()}); }},
      h('label', null, 'Target', input), h('button', {type: 'submit'}, 'Filter')),
      table([
        {label: 'When', cell: e => when(e.at)},
        {label: 'Who', cell: e => e.actor},
        {label: 'Action', cell: e => e.action},
        {label: 'Target', cell: e => h('a', {href: `#/audit?target=${enc(e.target)}`}, e.target)},
        {label: 'Change', cell: e => summary(e)},
        {label: '', cell: e => details(e)},
      ], events, {testid: 'audit-table', empty: 'No events match.'}),
      events.length >= limit ? h('div', {class: 'pager'}, h('button', {type: 'button', class: 'secondary',
        onclick: () => go(['audit'], {target, limit: limit + STEP})}, `Show ${STEP} more`)) : h('p', {class: 'muted'}, `${events.length} event(s).`)));
}
