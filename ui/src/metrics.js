// Reading GET /metrics (the Prometheus text format) and turning two samples into rates and
// latency quantiles per model version.

// Parses the text into [{name, labels: {k: v}, value}].
export function parseMetrics(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line[0] === '#') continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    if (m[3]) for (const part of m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[part[1]] = part[2].replace(/\\(.)/g, '$1');
    out.push({name: m[1], labels, value: m[4] === '+Inf' ? Infinity : Number(m[4])});
  }
  return out;
}

const versionKey = (model, version) => `${model}:${version}`;

// What the overview needs from one scrape: per "model:version" the request count and the latency
// histogram's cumulative buckets [[le, count]].
export function versionSample(metrics) {
  const versions = new Map();
  const entry = key => {
    if (!versions.has(key)) versions.set(key, {requests: 0, buckets: []});
    return versions.get(key);
  };
  for (const m of metrics) {
    if (m.name === 'orchard_predictions_total') entry(versionKey(m.labels.model, m.labels.version)).requests = m.value;
    else if (m.name === 'orchard_prediction_latency_seconds_bucket') {
      entry(versionKey(m.labels.model, m.labels.version)).buckets.push([m.labels.le === '+Inf' ? Infinity : Number(m.labels.le), m.value]);
    }
  }
  return versions;
}

// The q-quantile (seconds) of the requests between two cumulative histograms, by linear
// interpolation inside the bucket (as Prometheus' histogram_quantile); null without requests.
export function quantileBetween(before, after, q) {
  const deltas = after.map(([le, count], i) => [le, count - (before && before[i] ? before[i][1] : 0)]);
  const total = deltas.length ? deltas[deltas.length - 1][1] : 0;
  if (!(total > 0)) return null;
  const rank = q * total;
  let previousLe = 0, previousCount = 0;
  for (const [le, count] of deltas) {
    if (count >= rank) {
      if (le === Infinity) return previousLe;
      const inBucket = count - previousCount;
      return inBucket > 0 ? previousLe + (le - previousLe) * ((rank - previousCount) / inBucket) : le;
    }
    previousLe = le;
    previousCount = count;
  }
  return previousLe;
}

// Sums the cumulative histograms of several versions (same bucket bounds).
export function sumBuckets(list) {
  const present = list.filter(b => b && b.length);
  if (!present.length) return [];
  return present[0].map(([le], i) => [le, present.reduce((s, b) => s + (b[i] ? b[i][1] : 0), 0)]);
}
export {versionKey};

// Per endpoint and answering version (orchard_endpoint_requests_total and
// orchard_endpoint_request_duration_seconds, when the server has them): key "endpoint|model:version"
// -> {endpoint, version, requests, errors, buckets}.
export function endpointSample(metrics) {
  const entries = new Map();
  const entry = labels => {
    const key = `${labels.endpoint}|${labels.model}:${labels.version}`;
    if (!entries.has(key)) entries.set(key, {endpoint: labels.endpoint, version: Number(labels.version), requests: 0, errors: 0, buckets: []});
    return entries.get(key);
  };
  for (const m of metrics) {
    if (m.name === 'orchard_endpoint_requests_total') {
      const e = entry(m.labels);
      e.requests += m.value;
      if (m.labels.outcome === 'error') e.errors += m.value;
    } else if (m.name === 'orchard_endpoint_request_duration_seconds_bucket') {
      entry(m.labels).buckets.push([m.labels.le === '+Inf' ? Infinity : Number(m.labels.le), m.value]);
    }
  }
  return entries;
}
