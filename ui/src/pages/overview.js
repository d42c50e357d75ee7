// Overview: every endpoint, the versions taking its traffic, live requests/s and latency (from
// /metrics, sampled every few seconds), traffic share, p50/p99 and errors over the last hour (the A/B
// report), and drift status.
import {h, fill, table, errorBox, chip, statusChip, num, percent, micros, link} from '../dom.js';
import {api, enc} from '../api.js';
import {parseMetrics, versionSample, endpointSample, quantileBetween, sumBuckets, versionKey} from '../metrics.js';
import {timeChart} from '../charts.js';

const POLL_MS = 3000;
const HISTORY = 120;  // samples kept for the charts (6 minutes)
const DRIFT_RANK = {alert: 4, watch: 3, ok: 2, not_enough_data: 1, no_profile: 0, profile_unreadable: 3};

export async function render(ctx) {
  const stats = h('div', {class: 'stats'});
  const tableBox = h('div');
  const charts = h('div', {class: 'grid2'});
  const rateBox = h('div', {class: 'card'}, h('h2', null, 'Requests per second'));
  const latencyBox = h('div', {class: 'card'}, h('h2', null, 'p99 latency (ms)'));
  charts.append(rateBox, latencyBox);
  const problems = h('div');
  fill(ctx.root, h('h1', null, 'Overview'), h('div', {class: 'card'}, stats), problems,
       h('section', {class: 'card'}, h('h2', null, 'Endpoints'), tableBox,
         h('p', {class: 'muted'}, 'Requests/s and errors: live, from /metrics (between two samples a few seconds apart). Share, p50 and p99: the last hour, from each endpoint\'s A/B report. ',
           'Drift: the last hour against each version\'s reference profile.')),
       charts);

  let previous = null;  // {t, versions}
  const history = {xs: [], rate: new Map(), p99: new Map()};
  let rateChart = null, latencyChart = null;
  ctx.onCleanup(() => { rateChart?.destroy(); latencyChart?.destroy(); });

  async function refresh() {
    const [endpoints, metricsText] = await Promise.all([api('/api/v1/endpoints'), api('/metrics')]);
    if (!ctx.alive()) return;
    const now = Date.now() / 1000;
    const metrics = parseMetrics(metricsText);
    const sample = {t: now, versions: versionSample(metrics), endpoints: endpointSample(metrics)};
    // Per-endpoint counters when the server has them; else the per-version ones (shared by endpoints).
    const byEndpoint = sample.endpoints.size > 0;
    const details = await Promise.all(endpoints.map(async e => {
      const [report, drift] = await Promise.all([
        api(`/api/v1/endpoints/${enc(e.endpoint)}/report?window=1h`).catch(err => ({error: err})),
        api(`/api/v1/endpoints/${enc(e.endpoint)}/drift?window=1h`).catch(err => ({error: err})),
      ]);
      return {endpoint: e, report, drift};
    }));
    if (!ctx.alive()) return;

    const dt = previous ? now - previous.t : 0;
    const rateOf = key => {
      if (!previous || dt <= 0) return null;
      const a = previous.versions.get(key), b = sample.versions.get(key);
      return b ? Math.max(0, (b.requests - (a ? a.requests : 0)) / dt) : 0;
    };
    // Requests/s, error rate and the p99 latency of one endpoint (and version) between the samples.
    const endpointLive = (name, version) => {
      if (!previous || dt <= 0) return null;
      const pick = m => [...m.values()].filter(e => e.endpoint === name && (version === undefined || e.version === version));
      const now_ = pick(sample.endpoints), before = pick(previous.endpoints || new Map());
      const sum = (list, field) => list.reduce((s, e) => s + e[field], 0);
      const requests = Math.max(0, sum(now_, 'requests') - sum(before, 'requests'));
      const errors = Math.max(0, sum(now_, 'errors') - sum(before, 'errors'));
      return {rate: requests / dt, errorRate: requests ? errors / requests : null,
              p99: quantileBetween(sumBuckets(before.map(e => e.buckets)), sumBuckets(now_.map(e => e.buckets)), 0.99)};
    };
    const gauge = name => metrics.find(m => m.name === name)?.value;
    const totalRate = !previous ? null : byEndpoint
      ? endpoints.reduce((s, e) => s + (endpointLive(e.endpoint)?.rate || 0), 0)
      : [...sample.versions.keys()].reduce((s, k) => s + (rateOf(k) || 0), 0);
    fill(stats,
      stat('Endpoints', num(endpoints.length)),
      stat('Loaded versions', num(gauge('orchard_loaded_versions'))),
      stat('Requests/s (all)', totalRate === null ? 'measuring…' : num(totalRate, 1)),
      stat('Predictions logged', num(gauge('orchard_prediction_log_written_rows_total'))),
      stat('Log queue', num(gauge('orchard_prediction_log_queued_rows'))));
    const problemCount = gauge('orchard_endpoint_problems');
    fill(problems, problemCount > 0 ? errorBox({title: 'Routing problems:', message: `${problemCount} route(s) could not be applied at the last refresh.`,
      hint: 'The server\'s terminal names them; fix the route on its endpoint page (an alias pointing nowhere, an archived version).'}) : null);

    const rows = [];
    for (const {endpoint, report, drift} of details) {
      const arms = report.error ? endpoint.arms.map(a => ({arm: a.target, version: a.version, weight: a.weight})) : report.arms;
      const driftStatus = drift.error ? null : worstDrift(drift);
      const keys = [...new Set(endpoint.arms.map(a => versionKey(endpoint.model, a.version)))];
      const live = byEndpoint ? endpointLive(endpoint.endpoint) : null;
      const rate = byEndpoint ? (live ? live.rate : null) : previous ? keys.reduce((s, k) => s + (rateOf(k) || 0), 0) : null;
      const p99 = byEndpoint ? (live ? live.p99 : null) : previous ? quantileBetween(sumBuckets(keys.map(k => previous.versions.get(k)?.buckets)),
                                             sumBuckets(keys.map(k => sample.versions.get(k)?.buckets)), 0.99) : null;
      record(history.rate, endpoint.endpoint, rate);
      record(history.p99, endpoint.endpoint, p99 === null ? null : p99 * 1000);
      arms.forEach((arm, i) => {
        const armLive = byEndpoint ? endpointLive(endpoint.endpoint, arm.version) : null;
        rows.push({endpoint, arm, first: i === 0, count: arms.length, driftStatus, drift, report, live: armLive,
                   rate: byEndpoint ? (armLive ? armLive.rate : null) : rateOf(versionKey(arm.model || endpoint.model, arm.version))});
      });
      for (const shadow of (report.error ? [] : report.shadows || [])) {
        rows.push({endpoint, arm: {...shadow, shadow: true}, first: false, count: arms.length, report, rate: null});
      }
    }
    history.xs.push(now);
    if (history.xs.length > HISTORY) history.xs.shift();
    fill(tableBox, table([
      {label: 'Endpoint', cell: r => r.first ? h('span', null, link(`#/endpoints/${enc(r.endpoint.endpoint)}`, r.endpoint.endpoint, {'data-testid': 'endpoint-link'}),
                                                 r.endpoint.explicit_route ? chip('routed') : null) : ''},
      {label: 'Version', cell: r => h('span', {'data-testid': 'arm'}, link(`#/models/${enc(r.endpoint.model)}/versions/${r.arm.version}`, `${r.endpoint.model}:${r.arm.version}`),
                                        ' ', chip(r.arm.shadow ? `shadow ${r.arm.arm}` : r.arm.arm, r.arm.shadow ? 'muted' : 'alias'))},
      {label: 'Weight', class: 'num', cell: r => r.arm.shadow ? '—' : percent(r.arm.weight, 0)},
      {label: 'Share (1h)', class: 'num', cell: r => h('span', {'data-testid': 'share'}, r.arm.shadow ? '—' : percent(r.arm.share, 0))},
      {label: 'Rows (1h)', class: 'num', cell: r => num(r.arm.rows)},
      {label: 'Req/s', class: 'num', cell: r => h('span', {'data-testid': 'rate'}, r.rate === null ? (previous ? '—' : 'measuring…') : num(r.rate, 1))},
      {label: 'p50', class: 'num', cell: r => micros(r.arm.latency_us?.p50)},
      {label: 'p99', class: 'num', cell: r => micros(r.arm.latency_us?.p99)},
      {label: 'Errors', class: 'num', cell: r => r.live && r.live.errorRate !== null ? h('span', {title: 'live, since the last sample'}, percent(r.live.errorRate, 2))
                                                 : r.arm.errors ? percent(r.arm.errors.rate, 2) : '—'},
      {label: 'Drift', cell: r => r.first ? (r.drift?.error ? h('span', {class: 'muted', title: r.drift.error.message}, 'unavailable')
                                                        : link(`#/drift/${enc(r.endpoint.endpoint)}`, statusChip(r.driftStatus))) : ''},
      {label: '', cell: r => r.first ? h('span', null, link(`#/try/${enc(r.endpoint.endpoint)}`, 'Try it')) : ''},
    ], rows, {testid: 'overview-table', empty: 'No endpoints are served: push a model (orchard push NAME FILE) or start with --demo.',
              rowAttrs: r => ({'data-endpoint': r.endpoint.endpoint})}));
    drawCharts();
    previous = sample;
  }

  function record(map, name, value) {
    if (!map.has(name)) map.set(name, new Array(history.xs.length).fill(null));
    map.get(name).push(value);
  }
  function seriesOf(map) {
    const n = history.xs.length;
    return [...map.entries()].map(([label, values]) => {
      while (values.length > n) values.shift();
      while (values.length < n) values.unshift(null);
      return {label, values};
    });
  }
  function drawCharts() {
    const rates = seriesOf(history.rate), p99 = seriesOf(history.p99);
    if (!rates.length) return;
    if (!rateChart) rateChart = timeChart(rateBox, {title: '', xs: history.xs, series: rates, format: v => num(v, 1), xWindow: HISTORY * POLL_MS / 1000});
    else rateChart.update(history.xs, rates);
    if (!latencyChart) latencyChart = timeChart(latencyBox, {title: '', xs: history.xs, series: p99, format: v => num(v, 3), xWindow: HISTORY * POLL_MS / 1000});
    else latencyChart.update(history.xs, p99);
  }

  await refresh();
  let busy = false;
  const timer = setInterval(async () => {
    if (busy || document.hidden) return;
    busy = true;
    try { await refresh(); } catch (e) { if (ctx.alive()) fill(problems, errorBox(e)); } finally { busy = false; }
  }, POLL_MS);
  ctx.onCleanup(() => clearInterval(timer));
}

function stat(label, value) {
  return h('div', null, h('span', {class: 'label'}, label), h('span', {class: 'big'}, value));
}

function worstDrift(report) {
  let worst = null;
  for (const v of report.versions || []) {
    if (worst === null || (DRIFT_RANK[v.status] ?? 0) > (DRIFT_RANK[worst] ?? 0)) worst = v.status;
  }
  return worst || 'not_enough_data';
}
