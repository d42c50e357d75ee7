// Drift: per feature (and per output), the reference histogram (from the version's training data)
// beside the live one, PSI with its status, and PSI over time.
import {h, fill, table, errorBox, notice, section, statusChip, num, percent, link} from '../dom.js';
import {api, enc} from '../api.js';
import {go} from '../nav.js';
import {barChart, timeChart} from '../charts.js';

const WINDOWS = ['15m', '1h', '6h', '24h', '7d'];
const STEP = {'15m': '1m', '1h': '5m', '6h': '15m', '24h': '1h', '7d': '6h'};

export async function render(ctx) {
  const endpoints = await api('/api/v1/endpoints');
  if (!ctx.alive()) return;
  const [name] = ctx.parts;
  const chooser = h('select', {'data-testid': 'drift-endpoint', onchange: e => go(['drift', e.target.value])},
    h('option', {value: ''}, 'choose an endpoint'), endpoints.map(e => h('option', {value: e.endpoint, selected: e.endpoint === name}, e.endpoint)));
  if (!name) {
    fill(ctx.root, h('h1', null, 'Drift'), section('Endpoint', chooser,
      h('p', {class: 'muted'}, 'Drift compares live inputs and predictions with the reference profile recorded at push (orchard push --dataset).')));
    if (endpoints.length) go(['drift', endpoints[0].endpoint]);
    return;
  }
  const windowText = WINDOWS.includes(ctx.query.get('window')) ? ctx.query.get('window') : '1h';
  const report = await api(`/api/v1/endpoints/${enc(name)}/drift?window=${windowText}`);
  if (!ctx.alive()) return;
  const versions = report.versions || [];
  const versionNumber = Number(ctx.query.get('version')) || (versions.find(v => v.features)?.version ?? versions[0]?.version);
  const version = versions.find(v => v.version === versionNumber);
  const windowSelect = h('select', {'data-testid': 'drift-window', onchange: e => go(['drift', name], {window: e.target.value, version: versionNumber})},
    WINDOWS.map(w => h('option', {value: w, selected: w === windowText}, `last ${w}`)));
  const versionSelect = h('select', {'data-testid': 'drift-version', onchange: e => go(['drift', name], {window: windowText, version: e.target.value})},
    versions.map(v => h('option', {value: v.version, selected: v.version === versionNumber}, `${v.model}:${v.version} (${(v.arms || []).join(', ')})`)));
  const detail = h('div');
  const charts = [];
  ctx.onCleanup(() => charts.forEach(c => c.destroy()));

  const alerts = versions.flatMap(v => (v.features || []).filter(f => f.status === 'alert').map(f => `${v.model}:${v.version} ${f.name} (PSI ${num(f.psi, 2)})`));
  fill(ctx.root,
    h('h1', null, `Drift of ${name}`),
    h('div', {class: 'card row'}, h('label', null, 'Endpoint', chooser), h('label', null, 'Window', windowSelect),
      versions.length ? h('label', null, 'Version', versionSelect) : null,
      h('span', {class: 'muted'}, `PSI thresholds: watch ≥ ${report.thresholds?.watch}, alert ≥ ${report.thresholds?.alert}; at least ${report.min_rows} live rows.`)),
    alerts.length ? h('div', {class: 'notice bad', role: 'alert', 'data-testid': 'drift-alert'}, h('strong', null, 'Drift alert: '), alerts.join('; '),
      '. The live data no longer looks like the training data: check the inputs upstream, or retrain on recent data.') : null,
    !versions.length ? notice('No traffic to this endpoint in the window yet: drift is measured on logged predictions.', 'info') : null,
    version ? versionSection(version) : null,
    detail);

  function versionSection(v) {
    if (!v.features) {
      return notice(v.status === 'no_profile'
        ? `${v.model}:${v.version} has no reference profile, so its drift cannot be measured: push it with --dataset TRAIN.csv to record one.`
        : `${v.model}:${v.version}: ${v.status}.`, 'warn');
    }
    const rows = [...v.features.map(f => ({...f, subject: 'feature'})), ...(v.predictions || []).map(f => ({...f, subject: 'output'}))];
    return section(`${v.model}:${v.version} · ${num(v.rows)} live row(s) · status `, statusChip(v.status),
      table([
        {label: 'Distribution', cell: f => h('a', {href: '#', 'data-testid': 'drift-feature', onclick: e => { e.preventDefault(); showFeature(v, f); }}, f.subject === 'output' ? `prediction: ${f.name}` : f.name)},
        {label: 'PSI', class: 'num', cell: f => num(f.psi, 3)},
        {label: 'Status', cell: f => statusChip(f.status)},
        {label: 'Live rows', class: 'num', cell: f => num(f.rows)},
        {label: 'Missing (reference → live)', class: 'num', cell: f => `${percent(f.missing_rate_reference)} → ${percent(f.missing_rate_live)}`},
      ], rows.sort((a, b) => (b.psi ?? 0) - (a.psi ?? 0)), {testid: 'drift-table', rowAttrs: f => ({'data-feature': f.name, 'data-status': f.status})}));
  }

  async function showFeature(v, f) {
    charts.forEach(c => c.destroy());
    charts.length = 0;
    const histBox = h('div'), seriesBox = h('div');
    fill(detail, h('div', {class: 'grid2', 'data-testid': 'drift-detail'},
      section(`${f.name}: reference vs live (fraction of rows per bin)`, histBox),
      section(`${f.name}: PSI over time`, seriesBox)));
    charts.push(barChart(histBox, {title: '', labels: binLabels(f), format: v => percent(v, 0),
      series: [{label: 'reference (training data)', values: f.reference_fractions}, {label: `live (last ${windowText})`, values: f.live_fractions}]}));
    try {
      const param = f.subject === 'output' ? `output=${enc(f.name)}` : `feature=${enc(f.name)}`;
      const series = await api(`/api/v1/endpoints/${enc(name)}/drift?${param}&model=${enc(v.model)}&version=${v.version}&window=${windowText}&step=${STEP[windowText]}`);
      if (!ctx.alive()) return;
      const xs = series.points.map(p => Date.parse(p.end) / 1000);
      charts.push(timeChart(seriesBox, {title: '', xs, format: x => num(x, 2),
        series: [{label: 'PSI', values: series.points.map(p => p.psi)},
                 {label: 'alert', values: xs.map(() => report.thresholds?.alert ?? null)},
                 {label: 'watch', values: xs.map(() => report.thresholds?.watch ?? null)}]}));
    } catch (e) {
      fill(seriesBox, errorBox(e));
    }
  }
  if (version?.features?.length) {
    const worst = [...version.features].sort((a, b) => (b.psi ?? 0) - (a.psi ?? 0))[0];
    showFeature(version, {...worst, subject: 'feature'});
  }
}

// Names of the bins: numeric edges e0 < e1 < ... give "≤ e0", "e0 – e1", ..., "> eN", then "missing";
// categories give their names, then "other" bins, then "missing".
export function binLabels(f) {
  const n = f.reference_fractions.length;
  const labels = [];
  if (f.kind === 'numeric' && f.edges) {
    const e = f.edges.map(x => num(x, 3));
    labels.push(`≤ ${e[0]}`);
    for (let i = 1; i < e.length; i++) labels.push(`${e[i - 1]} – ${e[i]}`);
    labels.push(`> ${e[e.length - 1]}`);
  } else {
    labels.push(...(f.categories || []).map(String));
  }
  while (labels.length < n - 1) labels.push('other');
  labels.length = Math.min(labels.length, n - 1);
  labels.push('missing');
  return labels;
}
