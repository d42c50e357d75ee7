// Endpoints: what each endpoint serves; the routing editor (weights, sticky key, shadows, trace mode);
// promotion and rollback of the model's aliases, each confirmed with what will change; the A/B report.
import {h, fill, table, errorBox, notice, section, chip, num, percent, micros, when, link, confirmDialog} from '../dom.js';
import {api, enc} from '../api.js';
import {go} from '../nav.js';

let flash = null;  // a message to show after the page re-renders

export async function render(ctx) {
  const [name] = ctx.parts;
  return name ? renderEndpoint(ctx, name) : renderList(ctx);
}

async function renderList(ctx) {
  const [endpoints, models] = await Promise.all([api('/api/v1/endpoints'), api('/api/v1/models')]);
  if (!ctx.alive()) return;
  const editor = h('div');
  fill(ctx.root, h('h1', null, 'Endpoints'),
    section('Served endpoints', table([
      {label: 'Endpoint', cell: e => link(`#/endpoints/${enc(e.endpoint)}`, e.endpoint)},
      {label: 'Model', cell: e => link(`#/models/${enc(e.model)}`, e.model)},
      {label: 'Arms', cell: e => e.arms.map(a => chip(`${a.target} → v${a.version} · ${percent(a.weight, 0)}`, 'alias'))},
      {label: 'Shadows', cell: e => e.shadows.map(s => chip(`v${s}`))},
      {label: 'Sticky', cell: e => e.sticky || '—'},
      {label: 'Route', cell: e => e.explicit_route ? 'explicit' : 'default (the model\'s production alias, else its latest version)'},
    ], endpoints, {testid: 'endpoints-table', empty: 'Nothing is served yet: push a model first.'})),
    h('section', {class: 'card'}, h('h2', null, 'Route a new endpoint'),
      h('p', {class: 'muted'}, 'An endpoint can split traffic between versions of one model by weight; its name is its URL: /endpoints/NAME/invocations and /v2/models/NAME.'),
      editor));
  routeEditor(editor, {models, modelName: models[0]?.name, endpointName: '', current: null, onSaved: endpoint => go(['endpoints', endpoint])});
}

// The stored route of an explicitly routed endpoint: the latest endpoint.route event's "after".
async function storedRoute(name) {
  const events = await api(`/api/v1/audit?target=${enc('endpoint:' + name)}&limit=1`);
  return events.length && events[0].after ? events[0].after : null;
}

async function renderEndpoint(ctx, name) {
  const served = await api(`/api/v1/endpoints/${enc(name)}`);
  const [model, models, stored, endpoints] = await Promise.all([
    api(`/api/v1/models/${enc(served.model)}`), api('/api/v1/models'),
    served.explicit_route ? storedRoute(name) : Promise.resolve(null), api('/api/v1/endpoints')]);
  if (!ctx.alive()) return;
  const current = stored || {
    model: served.model, arms: served.arms.map(a => ({target: a.target, weight: a.weight})),
    sticky: served.sticky || '', shadows: served.shadows.map(String), trace: served.trace || 'async'};
  const editorBox = h('div'), aliasBox = h('div'), reportBox = h('div'), messages = h('div', {'data-testid': 'endpoint-messages'});
  fill(ctx.root,
    h('h1', null, `Endpoint ${name}`),
    h('p', null, 'Model ', link(`#/models/${enc(served.model)}`, served.model), ' · ', link(`#/try/${enc(name)}`, 'Try it'), ' · ',
      link(`#/drift/${enc(name)}`, 'Drift'), ' · ', link(`#/predictions?endpoint=${enc(name)}`, 'Predictions')),
    messages,
    section('Served now', table([
      {label: 'Target', cell: a => chip(a.target, 'alias')},
      {label: 'Version', cell: a => link(`#/models/${enc(served.model)}/versions/${a.version}`, `v${a.version}`)},
      {label: 'Weight', class: 'num', cell: a => percent(a.weight, 1)},
    ], served.arms, {testid: 'served-arms'}),
      h('p', {class: 'muted'}, `Shadows: ${served.shadows.length ? served.shadows.map(s => 'v' + s).join(', ') : 'none'} · sticky key: ${served.sticky || 'none (each request drawn at random)'}`,
        served.explicit_route ? ` · trace: ${served.trace || current.trace || 'async'}` : ' · default route')),
    h('section', {class: 'card'}, h('h2', null, 'Routing'), editorBox),
    h('section', {class: 'card'}, h('h2', null, `Aliases of ${served.model}: promote and roll back`), aliasBox),
    h('section', {class: 'card'}, h('h2', null, 'A/B report'), reportBox));
  const say = node => fill(messages, node);
  // A change re-renders the page: its message is carried over once.
  if (flash) { say(flash); flash = null; }
  const sayAndReload = node => { flash = node; ctx.reload(); };
  routeEditor(editorBox, {models, modelName: served.model, endpointName: name, current, explicit: served.explicit_route,
    onSaved: (endpoint, message) => sayAndReload(message), say});
  aliasPanel(aliasBox, {model, endpoints, say, sayAndReload});
  reportPanel(ctx, reportBox, name);
}

function targetOptions(model) {
  const options = Object.entries(model.aliases).sort().map(([alias, v]) => ({value: `@${alias}`, label: `@${alias} (now v${v})`}));
  const versions = [...model.versions].filter(v => !v.archived).sort((a, b) => b.version - a.version);
  for (const v of versions) options.push({value: String(v.version), label: `v${v.version}${v.description ? ' · ' + v.description.slice(0, 40) : ''}`});
  return options;
}

function describeRoute(route, model) {
  const resolve = t => t.startsWith('@') ? (model.aliases[t.slice(1)] !== undefined ? `v${model.aliases[t.slice(1)]}` : 'nowhere') : `v${t}`;
  const total = route.arms.reduce((s, a) => s + Number(a.weight), 0) || 1;
  return [
    ...route.arms.map(a => `${a.target} (${resolve(a.target)}): ${percent(Number(a.weight) / total, 1)}`),
    `shadows: ${route.shadows.length ? route.shadows.map(s => `${s} (${resolve(s)})`).join(', ') : 'none'}`,
    `sticky: ${route.sticky || 'none'}`,
    `trace: ${route.trace || 'async'}`,
  ];
}

// The routing editor. `current` is the route as stored (or what is served by default).
function routeEditor(container, {models, modelName, endpointName, current, explicit, onSaved, say}) {
  say = say || (node => fill(result, node));
  const result = h('div');
  const nameInput = h('input', {type: 'text', value: endpointName, placeholder: 'endpoint name', 'data-testid': 'route-endpoint', disabled: Boolean(endpointName)});
  const modelSelect = h('select', {'data-testid': 'route-model'}, models.map(m => h('option', {value: m.name, selected: m.name === modelName}, m.name)));
  const armsBox = h('div'), shadowsBox = h('div');
  const stickyKind = h('select', {'data-testid': 'sticky-kind'}, ['none', 'header', 'field'].map(k => h('option', {value: k}, k === 'none' ? 'none (random per request)' : k)));
  const stickyName = h('input', {type: 'text', placeholder: 'x-user-id', 'data-testid': 'sticky-name'});
  const trace = h('select', {'data-testid': 'trace-mode'}, h('option', {value: 'async'}, 'async (fast; a crash loses ~100 ms of records)'),
    h('option', {value: 'durable'}, 'durable (each response waits for its record)'));
  let model = null;
  let arms = [], shadows = [];

  const sticky = current?.sticky || '';
  stickyKind.value = sticky.startsWith('header:') ? 'header' : sticky.startsWith('field:') ? 'field' : 'none';
  stickyName.value = sticky.includes(':') ? sticky.slice(sticky.indexOf(':') + 1) : '';
  trace.value = current?.trace || 'async';

  const select = (value, onchange, testid) => h('select', {'data-testid': testid, onchange},
    targetOptions(model).map(o => h('option', {value: o.value, selected: o.value === value}, o.label)));
  const drawArms = () => {
    fill(armsBox, table([
      {label: 'Target', cell: (a, i) => select(a.target, e => { a.target = e.target.value; }, 'arm-target')},
      {label: 'Weight', cell: a => h('input', {type: 'number', min: 0, step: 'any', value: a.weight, 'data-testid': 'arm-weight',
        oninput: e => { a.weight = e.target.value; }})},
      {label: '', cell: a => h('button', {type: 'button', class: 'secondary', disabled: arms.length < 2,
        onclick: () => { arms = arms.filter(x => x !== a); drawArms(); }}, 'Remove')},
    ], arms, {testid: 'route-arms'}),
    h('button', {type: 'button', class: 'secondary', 'data-testid': 'add-arm', onclick: () => { arms.push({target: targetOptions(model)[0].value, weight: 0}); drawArms(); }}, 'Add arm'));
  };
  const drawShadows = () => {
    fill(shadowsBox, shadows.map(s => h('span', {class: 'row'}, select(s.target, e => { s.target = e.target.value; }, 'shadow-target'),
      h('button', {type: 'button', class: 'secondary', onclick: () => { shadows = shadows.filter(x => x !== s); drawShadows(); }}, 'Remove'))),
      h('button', {type: 'button', class: 'secondary', 'data-testid': 'add-shadow', onclick: () => { shadows.push({target: targetOptions(model)[0].value}); drawShadows(); }}, 'Add shadow'));
  };
  const loadModel = async (first) => {
    save.disabled = true;
    model = await api(`/api/v1/models/${enc(modelSelect.value)}`);
    const options = targetOptions(model);
    if (first && current && current.model === model.name) {
      arms = current.arms.map(a => ({target: a.target, weight: a.weight}));
      shadows = (current.shadows || []).map(t => ({target: String(t)}));
    } else {
      arms = [{target: options[0]?.value, weight: 1}];
      shadows = [];
    }
    drawArms();
    drawShadows();
    save.disabled = false;
  };
  modelSelect.addEventListener('change', () => loadModel(false).catch(e => say(errorBox(e))));

  const save = h('button', {type: 'button', 'data-testid': 'route-save', disabled: true}, 'Save route…');  // enabled once the model's targets are loaded
  save.addEventListener('click', async () => {
    const endpoint = nameInput.value.trim();
    const problems = [];
    if (!endpoint) problems.push('the endpoint needs a name');
    const weights = arms.map(a => Number(a.weight));
    if (weights.some(w => !Number.isFinite(w) || w < 0)) problems.push('every weight must be a number ≥ 0');
    if (!(weights.reduce((s, w) => s + w, 0) > 0)) problems.push('the weights must not all be 0');
    if (stickyKind.value !== 'none' && !stickyName.value.trim()) problems.push(`the sticky ${stickyKind.value} needs a name`);
    if (problems.length) {
      say(errorBox({title: 'The route was not saved:', message: problems.join('; ') + '.', hint: 'Fix the fields above and save again.'}));
      return;
    }
    const route = {model: model.name, arms: arms.map((a, i) => ({target: a.target, weight: weights[i]})),
      sticky: stickyKind.value === 'none' ? '' : `${stickyKind.value}:${stickyName.value.trim()}`,
      shadows: shadows.map(s => s.target), trace: trace.value};
    const before = current ? describeRoute({...current, shadows: (current.shadows || []).map(String)}, model) : ['(not served yet)'];
    const after = describeRoute(route, model);
    const ok = await confirmDialog(`Change the route of ${endpoint}?`, h('div', null,
      h('p', null, 'New requests follow the new route at once; requests in flight finish on the old one.'),
      h('div', {class: 'grid2'},
        h('div', {class: 'change'}, h('strong', null, explicit || !endpointName ? 'Now' : 'Now (default route)'), before.map(l => h('div', {class: 'from-line'}, l))),
        h('div', {class: 'change'}, h('strong', null, 'After'), after.map(l => h('div', {class: 'to'}, l))))), 'Save route');
    if (!ok) return;
    try {
      await api(`/api/v1/endpoints/${enc(endpoint)}`, {method: 'PUT', body: route});
      const message = notice(`Route of ${endpoint} saved: ${after.slice(0, route.arms.length).join(', ')}.`, 'good');
      flash = message;
      onSaved(endpoint, message);
    } catch (e) {
      say(errorBox(e));
    }
  });
  const reset = explicit ? h('button', {type: 'button', class: 'secondary', 'data-testid': 'route-reset', onclick: async () => {
    const ok = await confirmDialog(`Reset the route of ${endpointName}?`, h('p', null,
      `The endpoint goes back to the default: the model's production alias (else its latest version), no shadows, no sticky key.`), 'Reset route');
    if (!ok) return;
    try {
      await api(`/api/v1/endpoints/${enc(endpointName)}`, {method: 'DELETE'});
      onSaved(endpointName, notice(`The route of ${endpointName} was reset: it serves its model's default again.`, 'good'));
    } catch (e) { say(errorBox(e)); }
  }}, 'Reset to default route') : null;

  fill(container,
    h('div', {class: 'row'}, h('label', null, 'Endpoint', nameInput), h('label', null, 'Model', modelSelect)),
    h('h3', null, 'Arms (weights are relative: 9 and 1 send 90% and 10%)'), armsBox,
    h('h3', null, 'Shadows (called off the request path; their answers are logged, never returned)'), shadowsBox,
    h('h3', null, 'Options'),
    h('div', {class: 'row'}, h('label', null, 'Sticky key', stickyKind), h('label', null, 'Header or field name', stickyName), h('label', null, 'Trace mode', trace)),
    h('div', {class: 'row', style: 'margin-top:12px'}, save, reset),
    result);
  loadModel(true).catch(e => say(errorBox(e)));
}

// Replays an alias's history as Registry::rollback does (a promotion pushes, a rollback pops).
function rollbackTarget(history) {
  const stack = [];
  for (const change of history) {
    if (change.kind === 'rollback') stack.pop(); else stack.push(change.to_version);
  }
  return stack.length >= 2 ? stack[stack.length - 2] : null;
}

function aliasPanel(container, {model, endpoints, say, sayAndReload}) {
  const name = model.name;
  const affected = alias => endpoints.filter(e => e.model === name && (e.arms.some(a => a.target === `@${alias}`)));
  const affectedText = (alias, version) => {
    const list = affected(alias);
    if (!list.length) return h('p', {class: 'muted'}, `No endpoint routes @${alias} now: the change affects only what the alias names.`);
    return h('div', null, h('p', null, 'Endpoints that route this alias start answering with the new version:'),
      h('ul', null, list.map(e => h('li', null, `${e.endpoint}: arm @${alias} (${percent(e.arms.find(a => a.target === `@${alias}`).weight, 0)} of traffic) → v${version}`))));
  };
  const versions = [...model.versions].filter(v => !v.archived).sort((a, b) => b.version - a.version);
  const aliasSelect = h('select', {'data-testid': 'promote-alias'}, Object.keys(model.aliases).sort().map(a => h('option', {value: a}, `@${a}`)),
    h('option', {value: ''}, 'a new alias…'));
  const newAlias = h('input', {type: 'text', placeholder: 'new alias name', hidden: true});
  aliasSelect.addEventListener('change', () => { newAlias.hidden = aliasSelect.value !== ''; });
  const versionSelect = h('select', {'data-testid': 'promote-version'}, versions.map(v => h('option', {value: v.version}, `v${v.version}`)));
  const promote = h('button', {type: 'button', 'data-testid': 'promote'}, 'Promote…');
  promote.addEventListener('click', async () => {
    const alias = aliasSelect.value || newAlias.value.trim();
    const version = Number(versionSelect.value);
    if (!alias) { say(errorBox({title: 'Nothing promoted:', message: 'the new alias has no name.', hint: 'Type a name such as production or staging.'})); return; }
    const from = model.aliases[alias];
    if (from === version) { say(notice(`@${alias} already names v${version}: nothing to change.`, 'warn')); return; }
    const ok = await confirmDialog(`Promote ${name} v${version} to @${alias}?`, h('div', null,
      h('p', {class: 'change'}, `@${alias}: `, from === undefined ? h('span', null, '(new alias)') : h('span', {class: 'from'}, `v${from}`), ' → ', h('span', {class: 'to'}, `v${version}`)),
      affectedText(alias, version),
      h('p', {class: 'muted'}, 'The change is recorded in the audit log; "Roll back" undoes it.')), 'Promote');
    if (!ok) return;
    try {
      await api(`/api/v1/models/${enc(name)}/aliases/${enc(alias)}`, {method: 'PUT', body: {version}});
      sayAndReload(notice(`@${alias} of ${name} now names v${version}${from === undefined ? '' : ` (was v${from})`}.`, 'good'));
    } catch (e) { say(errorBox(e)); }
  });
  const rollback = async alias => {
    try {
      const detail = await api(`/api/v1/models/${enc(name)}/aliases/${enc(alias)}`);
      const target = rollbackTarget(detail.history || []);
      if (target === null) {
        say(errorBox({title: 'Nothing to roll back:', message: `@${alias} of ${name} was never moved after it was first set.`, hint: 'Promote another version first; roll back undoes a promotion.'}));
        return;
      }
      const ok = await confirmDialog(`Roll back @${alias} of ${name}?`, h('div', null,
        h('p', {class: 'change'}, `@${alias}: `, h('span', {class: 'from'}, `v${detail.version}`), ' → ', h('span', {class: 'to'}, `v${target}`)),
        affectedText(alias, target)), 'Roll back');
      if (!ok) return;
      await api(`/api/v1/models/${enc(name)}/aliases/${enc(alias)}/rollback`, {method: 'POST'});
      sayAndReload(notice(`@${alias} of ${name} rolled back to v${target}.`, 'good'));
    } catch (e) { say(errorBox(e)); }
  };
  fill(container,
    table([
      {label: 'Alias', cell: ([a]) => chip(`@${a}`, 'alias')},
      {label: 'Version', cell: ([, v]) => link(`#/models/${enc(name)}/versions/${v}`, `v${v}`)},
      {label: 'Routed by', cell: ([a]) => affected(a).map(e => e.endpoint).join(', ') || '—'},
      {label: '', cell: ([a]) => h('button', {type: 'button', class: 'secondary', 'data-testid': `rollback-${a}`, onclick: () => rollback(a)}, 'Roll back…')},
    ], Object.entries(model.aliases).sort(), {testid: 'aliases-table', empty: 'No aliases yet.'}),
    h('div', {class: 'row', style: 'margin-top:12px'}, h('label', null, 'Alias', aliasSelect), newAlias, h('label', null, 'Version', versionSelect), promote));
}

function reportPanel(ctx, container, name) {
  const windowSelect = h('select', {'data-testid': 'report-window'}, ['15m', '1h', '24h', '7d'].map(w => h('option', {value: w, selected: w === '1h'}, `last ${w}`)));
  const body = h('div');
  const draw = async () => {
    try {
      const report = await api(`/api/v1/endpoints/${enc(name)}/report?window=${windowSelect.value}`);
      if (!ctx.alive()) return;
      const metric = report.metric?.name || 'quality';
      fill(body,
        h('p', {class: 'notice', 'data-testid': 'verdict'}, h('strong', null, 'Verdict: '), report.verdict || '—'),
        h('p', {class: 'muted'}, `${num(report.rows)} row(s) in the window · compared on ${metric} (${report.metric?.test}), labelled rows from feedback; at least ${report.min_labelled} per arm.`),
        table([
          {label: 'Arm', cell: a => chip(a.arm, 'alias')},
          {label: 'Version', cell: a => `v${a.version}`},
          {label: 'Weight', class: 'num', cell: a => percent(a.weight, 0)},
          {label: 'Rows', class: 'num', cell: a => h('span', {'data-testid': 'arm-rows'}, num(a.rows))},
          {label: 'Share', class: 'num', cell: a => percent(a.share, 1)},
          {label: 'p50', class: 'num', cell: a => micros(a.latency_us?.p50)},
          {label: 'p99', class: 'num', cell: a => micros(a.latency_us?.p99)},
          {label: 'Errors', class: 'num', cell: a => `${percent(a.errors?.rate, 2)} (${num(a.errors?.failures)})`},
          {label: 'Labelled', class: 'num', cell: a => num(a.quality?.labelled ?? 0)},
          {label: metric, class: 'num', cell: a => num(a.compared_metric, 4)},
          {label: 'Versus control', cell: a => a.verdict ? `${a.verdict.text}${a.verdict.p_value !== undefined ? ` (p = ${num(a.verdict.p_value, 4)})` : ''}` : 'control'},
        ], report.arms, {testid: 'report-arms', rowAttrs: a => ({'data-arm': a.arm})}),
        report.shadows?.length ? h('div', null, h('h3', null, 'Shadows'), table([
          {label: 'Shadow', cell: s => chip(s.arm)}, {label: 'Version', cell: s => `v${s.version}`},
          {label: 'Rows', class: 'num', cell: s => num(s.rows)}, {label: 'p50', class: 'num', cell: s => micros(s.latency_us?.p50)},
          {label: 'p99', class: 'num', cell: s => micros(s.latency_us?.p99)},
          {label: 'Labelled', class: 'num', cell: s => num(s.quality?.labelled ?? 0)},
          {label: metric, class: 'num', cell: s => num(s.compared_metric, 4)},
          {label: 'Paired rows', class: 'num', cell: s => num(s.verdict?.pairs ?? 0)},
          {label: 'Versus control', cell: s => s.verdict ? `${s.verdict.text}${s.verdict.p_value !== undefined ? ` (p = ${num(s.verdict.p_value, 4)})` : ''}` : '—'},
        ], report.shadows, {testid: 'report-shadows'}),
        h('p', {class: 'muted'}, `A shadow answers the control's own requests: it is compared with ${report.control} on those pairs (${report.shadows[0].verdict?.test || 'paired test'}).`)) : null);
    } catch (e) {
      if (ctx.alive()) fill(body, errorBox(e));
    }
  };
  windowSelect.addEventListener('change', draw);
  fill(container, h('div', {class: 'row'}, h('label', null, 'Window', windowSelect),
    h('button', {type: 'button', class: 'secondary', 'data-testid': 'report-refresh', onclick: draw}, 'Refresh')), body);
  draw();
  const timer = setInterval(() => { if (!document.hidden) draw(); }, 5000);
  ctx.onCleanup(() => clearInterval(timer));
}
