// Models: the registry's models; a model's versions (paged) with metrics, tags and aliases; one
// version's lineage; a side-by-side comparison of two or more versions; evaluation of versions on a
// labelled CSV uploaded from the browser.
import {h, fill, table, errorBox, notice, section, chip, num, bytes, when, shortSha, link} from '../dom.js';
import {api, enc} from '../api.js';
import {href, go} from '../nav.js';

const PAGE_SIZE = 50;
const LOWER_IS_BETTER = new Set(['logloss', 'rmse', 'mae', 'p50_us', 'size_bytes']);

export async function render(ctx) {
  const [name, sub, arg] = ctx.parts;
  if (!name) return renderList(ctx);
  if (sub === 'versions' && arg) return renderVersion(ctx, name, Number(arg));
  if (sub === 'compare') return renderCompare(ctx, name, (ctx.query.get('v') || '').split(',').filter(Boolean).map(Number));
  return renderModel(ctx, name);
}

function aliasChips(aliases, model) {
  return Object.entries(aliases || {}).map(([alias, v]) => link(`#/models/${enc(model)}/versions/${v}`, chip(`@${alias} → ${v}`, 'alias')));
}
function tagChips(tags) {
  return Object.entries(tags || {}).map(([k, v]) => chip(`${k}=${v}`));
}

async function renderList(ctx) {
  const models = await api('/api/v1/models');
  if (!ctx.alive()) return;
  const filter = h('input', {type: 'search', placeholder: 'Filter by name, tag or description', value: ctx.query.get('q') || '', 'aria-label': 'filter'});
  const box = h('div');
  const draw = () => {
    const q = filter.value.trim().toLowerCase();
    const shown = models.filter(m => !q || m.name.toLowerCase().includes(q) || (m.description || '').toLowerCase().includes(q)
      || Object.entries(m.tags || {}).some(([k, v]) => `${k}=${v}`.toLowerCase().includes(q)));
    fill(box, table([
      {label: 'Model', cell: m => link(`#/models/${enc(m.name)}`, m.name, {'data-testid': 'model-link'})},
      {label: 'Versions', class: 'num', cell: m => num(m.latest_version)},
      {label: 'Aliases', cell: m => aliasChips(m.aliases, m.name)},
      {label: 'Tags', cell: m => tagChips(m.tags)},
      {label: 'Description', cell: m => m.description || ''},
      {label: 'Created', cell: m => when(m.created_at)},
    ], shown.slice(0, 500), {testid: 'models-table', empty: models.length ? 'No model matches the filter.' :
      'The registry is empty: push a model with `orchard push NAME FILE` (or POST /api/v1/models/NAME/versions).'}),
      shown.length > 500 ? h('p', {class: 'muted'}, `Showing 500 of ${shown.length}: narrow the filter.`) : null);
  };
  filter.addEventListener('input', draw);
  fill(ctx.root, h('h1', null, 'Models'), h('section', {class: 'card'}, filter, box));
  draw();
}

async function renderModel(ctx, name) {
  const model = await api(`/api/v1/models/${enc(name)}`);
  if (!ctx.alive()) return;
  const versions = [...model.versions].sort((a, b) => b.version - a.version);
  const aliasesOf = v => Object.entries(model.aliases).filter(([, n]) => n === v).map(([a]) => a);
  const selected = new Set((ctx.query.get('v') || '').split(',').filter(Boolean).map(Number));
  let page = Number(ctx.query.get('page') || 0);
  const filter = h('input', {type: 'search', placeholder: 'Filter versions: number, tag, metric, description', 'aria-label': 'filter versions'});
  const showArchived = h('input', {type: 'checkbox'});
  const compareButton = h('button', {type: 'button', 'data-testid': 'compare-button'}, 'Compare selected');
  const selectedLabel = h('span', {class: 'muted'});
  const box = h('div');
  const evaluateBox = h('div');

  const matches = v => {
    const q = filter.value.trim().toLowerCase();
    if (!showArchived.checked && v.archived) return false;
    if (!q) return true;
    return String(v.version) === q || (v.description || '').toLowerCase().includes(q)
      || Object.entries({...v.tags, ...Object.fromEntries(Object.entries(v.metrics || {}).map(([k, x]) => [k, String(x)]))})
        .some(([k, x]) => `${k}=${x}`.toLowerCase().includes(q))
      || aliasesOf(v.version).some(a => a.includes(q));
  };
  const updateSelection = () => {
    selectedLabel.textContent = selected.size ? `${selected.size} selected: ${[...selected].sort((a, b) => a - b).join(', ')}` : 'Tick two or more versions to compare them.';
    compareButton.disabled = selected.size < 2;
  };
  const draw = () => {
    const shown = versions.filter(matches);
    const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
    page = Math.min(page, pages - 1);
    const slice = shown.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
    fill(box, table([
      {label: '', cell: v => h('input', {type: 'checkbox', 'aria-label': `select version ${v.version}`, 'data-version': v.version, checked: selected.has(v.version),
        onchange: e => { if (e.target.checked) selected.add(v.version); else selected.delete(v.version); e.target.closest('tr').classList.toggle('selected', e.target.checked); updateSelection(); }})},
      {label: 'Version', cell: v => link(`#/models/${enc(name)}/versions/${v.version}`, `v${v.version}`)},
      {label: 'Aliases', cell: v => aliasesOf(v.version).map(a => chip(`@${a}`, 'alias'))},
      {label: 'Format', cell: v => v.artifact?.format},
      {label: 'Size', class: 'num', cell: v => bytes(v.artifact?.size)},
      {label: 'Metrics', cell: v => Object.entries(v.metrics || {}).map(([k, x]) => chip(`${k} ${num(x, 4)}`))},
      {label: 'Evaluation', cell: v => v.evaluation ? evaluationSummary(v.evaluation) : ''},
      {label: 'Tags', cell: v => tagChips(v.tags)},
      {label: 'Created', cell: v => when(v.created_at)},
      {label: 'Description', cell: v => [v.description || '', v.archived ? chip('archived', 'muted') : null]},
    ], slice, {testid: 'versions-table', empty: 'No version matches.', rowAttrs: v => ({class: selected.has(v.version) ? 'selected' : '', 'data-version': v.version})}),
      h('div', {class: 'pager'},
        h('button', {type: 'button', class: 'secondary', disabled: page === 0, onclick: () => { page--; draw(); }}, '‹ Newer'),
        h('span', {class: 'muted'}, `Page ${page + 1} of ${pages} · ${shown.length} version(s)`),
        h('button', {type: 'button', class: 'secondary', disabled: page >= pages - 1, onclick: () => { page++; draw(); }}, 'Older ›')));
  };
  filter.addEventListener('input', () => { page = 0; draw(); });
  showArchived.addEventListener('change', () => { page = 0; draw(); });
  compareButton.addEventListener('click', () => go(['models', name, 'compare'], {v: [...selected].sort((a, b) => a - b).join(',')}));

  fill(ctx.root,
    h('h1', null, `Model ${name}`),
    h('section', {class: 'card'},
      h('dl', {class: 'facts'},
        h('dt', null, 'Aliases'), h('dd', null, aliasChips(model.aliases, name), Object.keys(model.aliases).length ? '' : 'none'),
        h('dt', null, 'Tags'), h('dd', null, tagChips(model.tags), Object.keys(model.tags || {}).length ? '' : 'none'),
        h('dt', null, 'Description'), h('dd', null, model.description || '—'),
        h('dt', null, 'Created'), h('dd', null, `${when(model.created_at)} by ${model.created_by}`)),
      h('p', null, link(`#/endpoints/${enc(name)}`, 'Routing, promotion and rollback of this model\'s endpoint ›'))),
    h('section', {class: 'card'}, h('h2', null, 'Versions'),
      h('div', {class: 'row'}, filter, h('label', {class: 'inline'}, showArchived, 'show archived'), compareButton, selectedLabel), box),
    evaluateBox);
  updateSelection();
  draw();
  evaluatePanel(evaluateBox, name, () => [...selected], versions.filter(v => !v.archived).map(v => v.version));
}

function evaluationSummary(evaluation) {
  const keys = Object.keys(evaluation).filter(k => !['version', 'data', 'at', 'rows', 'size_bytes', 'rows_per_s'].includes(k));
  return keys.slice(0, 4).map(k => chip(`${k} ${num(evaluation[k], 4)}`));
}

async function renderVersion(ctx, name, number) {
  const [version, model] = await Promise.all([api(`/api/v1/models/${enc(name)}/versions/${number}`), api(`/api/v1/models/${enc(name)}`)]);
  if (!ctx.alive()) return;
  const aliases = Object.entries(model.aliases).filter(([, v]) => v === number).map(([a]) => a);
  const features = version.schema?.features || [];
  fill(ctx.root,
    h('h1', null, `${name} v${number}`, ' ', aliases.map(a => chip(`@${a}`, 'alias')), version.archived ? chip('archived', 'muted') : null),
    h('p', null, link(`#/models/${enc(name)}`, `‹ all versions of ${name}`), ' · ',
      link(href(['models', name, 'compare'], {v: [number - 1, number].filter(v => v >= 1).join(',')}), 'compare with the previous version'), ' · ',
      link(`#/try/${enc(name)}?version=${number}`, 'try this version')),
    h('div', {class: 'grid2'},
      section('Lineage', h('dl', {class: 'facts', 'data-testid': 'lineage'},
        h('dt', null, 'Artifact'), h('dd', {class: 'mono'}, `${version.artifact?.format} · ${bytes(version.artifact?.size)} · sha256 ${version.artifact?.sha256}`),
        h('dt', null, 'Source'), h('dd', {class: 'mono'}, version.source?.path || '—'),
        h('dt', null, 'Git commit'), h('dd', {class: 'mono'}, version.source?.git_commit || '—'),
        h('dt', null, 'Training data'), h('dd', null, version.dataset
          ? h('span', {class: 'mono'}, `${version.dataset.path} · ${num(version.dataset.rows)} rows × ${version.dataset.columns} columns · sha256 ${shortSha(version.dataset.sha256)}`)
          : 'not recorded (push --dataset records it)'),
        h('dt', null, 'Reference profile'), h('dd', null, version.has_reference_profile ? 'yes: drift is measured against it' : 'no: drift cannot be measured for this version'),
        h('dt', null, 'Created'), h('dd', null, `${when(version.created_at)} by ${version.created_by}`),
        h('dt', null, 'Description'), h('dd', null, version.description || '—'),
        h('dt', null, 'Load check'), h('dd', null, version.load_check || '—'))),
      section('Metrics, parameters and tags', h('dl', {class: 'facts'},
        h('dt', null, 'Objective'), h('dd', null, version.schema?.objective || '—'),
        h('dt', null, 'Outputs'), h('dd', null, (version.schema?.outputs || []).join(', ') || '—'),
        h('dt', null, 'Metrics'), h('dd', null, Object.entries(version.metrics || {}).map(([k, v]) => chip(`${k} ${num(v, 4)}`)), Object.keys(version.metrics || {}).length ? '' : 'none'),
        h('dt', null, 'Parameters'), h('dd', null, Object.entries(version.params || {}).map(([k, v]) => chip(`${k}=${v}`)), Object.keys(version.params || {}).length ? '' : 'none'),
        h('dt', null, 'Tags'), h('dd', null, tagChips(version.tags), Object.keys(version.tags || {}).length ? '' : 'none'),
        h('dt', null, 'Evaluation'), h('dd', null, version.evaluation ? h('pre', null, JSON.stringify(version.evaluation, null, 2)) : 'none recorded (evaluate with record)')))),
    section(`Schema: ${features.length} feature(s)`, table([
      {label: '#', cell: f => f.index},
      {label: 'Feature', cell: f => f.name},
      {label: 'Type', cell: f => f.type},
      {label: 'Categories', cell: f => (f.categories || []).join(', ')},
    ], features.map((f, index) => ({...f, index})))));
}

// The side-by-side comparison: general facts, metrics, recorded evaluations and schema differences.
async function renderCompare(ctx, name, numbers) {
  if (numbers.length < 2 || numbers.some(n => !Number.isInteger(n) || n < 1)) {
    fill(ctx.root, h('h1', null, `Compare versions of ${name}`), errorBox({title: 'Nothing to compare:',
      message: 'the address names fewer than two versions.', hint: `Tick two or more versions on the model's page (#/models/${name}) and press "Compare selected".`}));
    return;
  }
  const versions = await Promise.all(numbers.map(n => api(`/api/v1/models/${enc(name)}/versions/${n}`)));
  const model = await api(`/api/v1/models/${enc(name)}`);
  if (!ctx.alive()) return;
  const aliasesOf = v => Object.entries(model.aliases).filter(([, n]) => n === v).map(([a]) => a);
  const header = h('tr', null, h('th', null, ''), versions.map(v => h('th', null, link(`#/models/${enc(name)}/versions/${v.version}`, `v${v.version}`), ' ', aliasesOf(v.version).map(a => chip(`@${a}`, 'alias')))));
  const rows = [];
  const row = (label, values, {best = null, diffs = true} = {}) => {
    const texts = values.map(v => v === undefined || v === null ? '—' : v);
    const differs = diffs && new Set(texts.map(String)).size > 1;
    let bestIndex = -1;
    if (best) {
      const nums = values.map(v => typeof v === 'number' ? v : null);
      nums.forEach((v, i) => { if (v !== null && (bestIndex < 0 || (best === 'low' ? v < nums[bestIndex] : v > nums[bestIndex]))) bestIndex = i; });
      if (nums.filter(v => v !== null).length < 2) bestIndex = -1;
    }
    rows.push(h('tr', null, h('th', null, label), texts.map((t, i) => h('td', {class: [differs ? 'diff' : '', i === bestIndex ? 'best' : ''].join(' ').trim()},
      typeof t === 'number' ? num(t, 5) : t))));
  };
  const groupRow = title => rows.push(h('tr', null, h('th', {colspan: versions.length + 1}, h('h3', null, title))));
  groupRow('Version');
  row('Format', versions.map(v => v.artifact?.format));
  row('Size', versions.map(v => v.artifact?.size), {best: 'low'});
  row('Objective', versions.map(v => v.schema?.objective));
  row('Outputs', versions.map(v => (v.schema?.outputs || []).join(', ')));
  row('Created', versions.map(v => when(v.created_at)), {diffs: false});
  row('Training data', versions.map(v => v.dataset ? `${shortSha(v.dataset.sha256)} (${v.dataset.rows} rows)` : 'not recorded'));
  row('Reference profile', versions.map(v => v.has_reference_profile ? 'yes' : 'no'));
  row('Load check', versions.map(v => v.load_check));
  row('Description', versions.map(v => v.description));
  const metricKeys = [...new Set(versions.flatMap(v => Object.keys(v.metrics || {})))].sort();
  if (metricKeys.length) {
    groupRow('Metrics recorded at push');
    for (const k of metricKeys) row(k, versions.map(v => v.metrics?.[k]), {best: LOWER_IS_BETTER.has(k) ? 'low' : 'high'});
  }
  const evalKeys = [...new Set(versions.flatMap(v => Object.keys(v.evaluation || {})))].filter(k => !['version', 'data', 'at'].includes(k));
  if (evalKeys.length) {
    groupRow('Recorded evaluation');
    for (const k of evalKeys) row(k, versions.map(v => v.evaluation?.[k]), {best: k === 'rows' ? null : LOWER_IS_BETTER.has(k) ? 'low' : 'high'});
    row('Evaluated on', versions.map(v => v.evaluation?.data ? `${shortSha(v.evaluation.data.sha256)} label=${v.evaluation.data.label}` : null));
  }
  const tagKeys = [...new Set(versions.flatMap(v => Object.keys(v.tags || {})))].sort();
  if (tagKeys.length) {
    groupRow('Tags');
    for (const k of tagKeys) row(k, versions.map(v => v.tags?.[k]));
  }
  // Schema: every feature of any version, its type per version (missing where a version lacks it).
  const featureNames = [];
  for (const v of versions) for (const f of v.schema?.features || []) if (!featureNames.includes(f.name)) featureNames.push(f.name);
  const schemaDiffers = featureNames.filter(n => new Set(versions.map(v => JSON.stringify((v.schema?.features || []).find(f => f.name === n) || null))).size > 1);
  groupRow(`Schema: ${featureNames.length} feature(s), ${schemaDiffers.length} differ`);
  for (const n of featureNames) {
    row(n, versions.map(v => {
      const f = (v.schema?.features || []).find(x => x.name === n);
      return f ? `${f.type}${f.categories ? ` (${f.categories.length} categories)` : ''}` : 'missing';
    }));
  }
  const evaluateBox = h('div');
  fill(ctx.root,
    h('h1', null, `Compare versions of ${name}`),
    h('p', null, link(`#/models/${enc(name)}?v=${numbers.join(',')}`, `‹ versions of ${name}`), h('span', {class: 'muted'}, ' · differing values are highlighted, the best value of a metric is bold')),
    h('section', {class: 'card'}, h('table', {class: 'grid compare', 'data-testid': 'compare-table'}, h('thead', null, header), h('tbody', null, rows))),
    evaluateBox);
  evaluatePanel(evaluateBox, name, () => numbers, numbers);
}

// Evaluation on a labelled CSV chosen in the browser: POST /api/v1/models/{name}/evaluate?label=COL.
function evaluatePanel(container, name, selectedVersions, allVersions) {
  const file = h('input', {type: 'file', accept: '.csv,text/csv', 'data-testid': 'evaluate-file'});
  const label = h('select', {'data-testid': 'evaluate-label', disabled: true}, h('option', {value: ''}, 'choose a CSV first'));
  const which = h('select', null, h('option', {value: 'selected'}, 'the selected versions'), h('option', {value: 'all'}, 'every version (not archived)'));
  const record = h('input', {type: 'checkbox'});
  const speed = h('input', {type: 'checkbox', checked: true});
  const run = h('button', {type: 'button', 'data-testid': 'evaluate-run', disabled: true}, 'Evaluate');
  const out = h('div', {'data-testid': 'evaluate-result'});
  file.addEventListener('change', async () => {
    fill(out);
    const f = file.files[0];
    if (!f) return;
    const head = await f.slice(0, 65536).text();
    const columns = parseCsvHeader(head);
    if (!columns.length) {
      fill(out, errorBox({title: 'Not a CSV:', message: `${f.name} has no header row.`, hint: 'Choose a CSV whose first line names the columns, one of them the label.'}));
      return;
    }
    const guess = columns.find(c => /^(target|label|y|class)$/i.test(c)) || columns[columns.length - 1];
    fill(label, columns.map(c => h('option', {value: c, selected: c === guess}, c)));
    label.disabled = false;
    run.disabled = false;
  });
  run.addEventListener('click', async () => {
    const f = file.files[0];
    let versions = which.value === 'all' ? allVersions : selectedVersions();
    if (!versions.length) versions = allVersions;
    const query = new URLSearchParams({label: label.value, versions: versions.join(','), speed: speed.checked ? '1' : '0', record: record.checked ? '1' : '0'});
    run.disabled = true;
    fill(out, h('p', {class: 'muted'}, `Evaluating ${versions.length} version(s) on ${f.name} (${bytes(f.size)})…`));
    try {
      const reports = await api(`/api/v1/models/${enc(name)}/evaluate?${query}`, {method: 'POST', body: f, contentType: 'text/csv'});
      const keys = [...new Set(reports.flatMap(r => Object.keys(r)))].filter(k => k !== 'version');
      const best = {};
      for (const k of keys) {
        if (k === 'rows') continue;
        const values = reports.map(r => r[k]).filter(v => typeof v === 'number' && Number.isFinite(v));
        if (values.length > 1) best[k] = LOWER_IS_BETTER.has(k) ? Math.min(...values) : Math.max(...values);
      }
      fill(out, table([
        {label: 'Version', cell: r => link(`#/models/${enc(name)}/versions/${r.version}`, `v${r.version}`)},
        ...keys.map(k => ({label: k, class: 'num', cell: r => h('span', {class: best[k] === r[k] ? 'chip good' : ''}, k === 'size_bytes' ? bytes(r[k]) : num(r[k], 5))})),
      ], reports, {testid: 'evaluation-table'}),
      record.checked ? notice('Recorded on each version: the comparison shows it under "Recorded evaluation".', 'good') : null);
    } catch (e) {
      fill(out, errorBox(e));
    } finally {
      run.disabled = false;
    }
  });
  fill(container, section('Evaluate on a labelled CSV',
    h('p', {class: 'muted'}, 'The file is sent to this server, scored by each version and deleted; nothing leaves the server.'),
    h('div', {class: 'row'}, h('label', null, 'CSV file', file), h('label', null, 'Label column', label), h('label', null, 'Versions', which),
      h('label', {class: 'inline'}, speed, 'measure speed'), h('label', {class: 'inline'}, record, 'record on the versions'), run),
    out));
}

// The column names of a CSV's first line (RFC 4180 quoting).
export function parseCsvHeader(text) {
  const line = [];
  let field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { line.push(field); field = ''; }
    else if (c === '\n' || c === '\r') { line.push(field); return line.filter((x, i) => x !== '' || i < line.length - 1); }
    else field += c;
  }
  if (field) line.push(field);
  return line;
}
