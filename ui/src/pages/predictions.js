// Predictions: a search of the prediction log (newest first, paged with the server's cursor) and a
// lookup by id showing the prediction's full lineage.
import {h, fill, table, errorBox, section, chip, num, micros, when, link, shortSha} from '../dom.js';
import {api, enc} from '../api.js';
import {href, go} from '../nav.js';

const FILTERS = ['endpoint', 'model', 'version', 'arm', 'window', 'since', 'until', 'limit'];

export async function render(ctx) {
  const [id] = ctx.parts;
  return id ? renderOne(ctx, id) : renderSearch(ctx);
}

function idLookup() {
  const input = h('input', {type: 'search', placeholder: 'prediction id (UUID)', size: 40, 'data-testid': 'id-lookup'});
  const form = h('form', {class: 'row', onsubmit: e => { e.preventDefault(); const id = input.value.trim(); if (id) go(['predictions', id]); }},
    h('label', null, 'Look up a prediction by id', input), h('button', {type: 'submit', 'data-testid': 'id-lookup-go'}, 'Show'));
  return form;
}

async function renderSearch(ctx) {
  const q = ctx.query;
  const inputs = {};
  const field = (key, label, placeholder, type = 'text') => {
    inputs[key] = h('input', {type, value: q.get(key) || '', placeholder, 'data-testid': `filter-${key}`});
    return h('label', null, label, inputs[key]);
  };
  const form = h('form', {class: 'row', onsubmit: e => {
    e.preventDefault();
    const query = {};
    for (const k of FILTERS) if (inputs[k].value.trim()) query[k] = inputs[k].value.trim();
    go(['predictions'], query);
  }},
    field('endpoint', 'Endpoint', 'any'), field('model', 'Model', 'any'), field('version', 'Version', 'any', 'number'), field('arm', 'Arm', '@production'),
    field('window', 'Window', '1h, 7d'), field('since', 'Since', '2026-11-26T21:00:00Z'), field('until', 'Until', 'ISO-8601'),
    field('limit', 'Per page', '50', 'number'), h('button', {type: 'submit'}, 'Search'));
  const results = h('div');
  fill(ctx.root, h('h1', null, 'Predictions'), section('Find', idLookup()), section('Search the prediction log', form, results));

  const params = new URLSearchParams();
  for (const k of FILTERS) if (q.get(k)) params.set(k, q.get(k));
  if (q.get('before')) params.set('before', q.get('before'));
  // The cursors of the pages before this one (to go back), carried in the address.
  const trail = (q.get('trail') || '').split(',').filter(Boolean);
  let page;
  try {
    page = await api(`/api/v1/predictions?${params}`);
  } catch (e) {
    if (ctx.alive()) fill(results, errorBox(e));
    return;
  }
  if (!ctx.alive()) return;
  const base = Object.fromEntries(FILTERS.filter(k => q.get(k)).map(k => [k, q.get(k)]));
  // trail: the cursors of the pages before this one ("-" is the first page), so "Newer" goes back.
  const back = trail.length ? trail[trail.length - 1] : null;
  const newer = back !== null ? href(['predictions'], {...base, before: back === '-' ? '' : back, trail: trail.slice(0, -1).join(',')}) : null;
  const older = page.next ? href(['predictions'], {...base, before: page.next, trail: [...trail, q.get('before') || '-'].join(',')}) : null;
  const outputs = p => p.outputs.map(v => num(v, 4)).join(', ');
  fill(results,
    table([
      {label: 'Id', cell: p => link(`#/predictions/${p.id}`, p.id, {class: 'mono', 'data-testid': 'prediction-link'})},
      {label: 'Time', cell: p => when(p.time)},
      {label: 'Endpoint', cell: p => p.endpoint},
      {label: 'Version', cell: p => link(`#/models/${enc(p.model)}/versions/${p.version}`, `${p.model}:${p.version}`)},
      {label: 'Arm', cell: p => chip(p.arm, p.arm.startsWith('shadow') ? 'muted' : 'alias')},
      {label: 'Output', class: 'num', cell: p => outputs(p)},
      {label: 'Latency', class: 'num', cell: p => micros(p.latency_us)},
      {label: 'Feedback', cell: p => p.feedback ? num(p.feedback.label) : ''},
    ], page.predictions, {testid: 'predictions-table', empty: 'No prediction matches: widen the filters, or send a request (Try it).'}),
    h('div', {class: 'pager'},
      newer ? link(newer, '‹ Newer', {'data-testid': 'newer'}) : h('span', {class: 'muted'}, '‹ Newer'),
      h('span', {class: 'muted'}, `${page.count} on this page`),
      older ? link(older, 'Older ›', {'data-testid': 'older'}) : h('span', {class: 'muted'}, 'Older ›')));
}

async function renderOne(ctx, id) {
  let p;
  try {
    p = await api(`/api/v1/predictions/${enc(id)}`);
  } catch (e) {
    if (!ctx.alive()) return;
    fill(ctx.root, h('h1', null, 'Prediction'), section('Find', idLookup()), errorBox(e.status === 404 ? {...e, hint:
      'A prediction is findable once the log has written it (a fraction of a second); check the id, or search the log.'} : e));
    return;
  }
  if (!ctx.alive()) return;
  const lineage = p.lineage || {};
  const inputs = Array.isArray(p.inputs) ? p.inputs.map((v, i) => [`feature ${i}`, v]) : Object.entries(p.inputs);
  fill(ctx.root,
    h('h1', null, 'Prediction ', h('span', {class: 'mono', 'data-testid': 'prediction-id'}, p.id)),
    section('Find', idLookup()),
    h('div', {class: 'grid2'},
      section('Answer', h('dl', {class: 'facts', 'data-testid': 'prediction-facts'},
        h('dt', null, 'Outputs'), h('dd', {class: 'mono'}, p.outputs.map(v => num(v, 6)).join(', '), p.raw ? ' (raw margins)' : ''),
        h('dt', null, 'Version'), h('dd', null, link(`#/models/${enc(p.model)}/versions/${p.version}`, `${p.model}:${p.version}`, {'data-testid': 'prediction-version'})),
        h('dt', null, 'Endpoint / arm'), h('dd', null, `${p.endpoint} · `, chip(p.arm, 'alias')),
        h('dt', null, 'Time'), h('dd', null, when(p.time)),
        h('dt', null, 'Latency'), h('dd', null, micros(p.latency_us)),
        h('dt', null, 'Caller'), h('dd', null, p.caller || '—'),
        h('dt', null, 'Request id'), h('dd', {class: 'mono'}, p.request_id || '—'),
        h('dt', null, 'traceparent'), h('dd', {class: 'mono'}, p.traceparent || '—'),
        h('dt', null, 'Feedback'), h('dd', null, p.feedback ? `label ${p.feedback.label} (received ${when(p.feedback.received)})` : 'none yet'))),
      section('Lineage', lineage.error ? errorBox({title: 'Lineage unavailable:', message: lineage.error}) : h('dl', {class: 'facts', 'data-testid': 'prediction-lineage'},
        h('dt', null, 'Artifact'), h('dd', {class: 'mono'}, `${lineage.artifact?.format ?? ''} sha256 ${p.artifact_sha256}`),
        h('dt', null, 'Source'), h('dd', {class: 'mono'}, lineage.source?.path || '—'),
        h('dt', null, 'Git commit'), h('dd', {class: 'mono'}, lineage.source?.git_commit || '—'),
        h('dt', null, 'Training data'), h('dd', {class: 'mono'}, lineage.dataset ? `${lineage.dataset.path} · ${lineage.dataset.rows} rows · sha256 ${shortSha(lineage.dataset.sha256)}` : 'not recorded'),
        h('dt', null, 'Version created'), h('dd', null, `${when(lineage.created_at)} by ${lineage.created_by ?? '—'}`),
        h('dt', null, 'Metrics at push'), h('dd', null, Object.entries(lineage.metrics || {}).map(([k, v]) => chip(`${k} ${num(v, 4)}`)), Object.keys(lineage.metrics || {}).length ? '' : 'none')))),
    section('Inputs as the model saw them', table([
      {label: 'Feature', cell: ([k]) => k}, {label: 'Value', class: 'num', cell: ([, v]) => v === null ? 'missing' : num(v, 6)}], inputs, {testid: 'prediction-inputs'})),
    h('p', null, link(`#/predictions?endpoint=${enc(p.endpoint)}`, `‹ other predictions of ${p.endpoint}`)));
}
