// Try it: a form generated from the model's schema (v2 metadata for the feature order, the version's
// registered schema for types and category names). Sends one row through the MLflow invocations
// route or the Open Inference Protocol v2 and shows the prediction, the version that answered and
// the prediction's id (a link to its lineage).
import {h, fill, errorBox, section, num, link} from '../dom.js';
import {api, enc} from '../api.js';
import {go} from '../nav.js';

export async function render(ctx) {
  const endpoints = await api('/api/v1/endpoints');
  if (!ctx.alive()) return;
  const [name] = ctx.parts;
  const chooser = h('select', {'data-testid': 'try-endpoint', onchange: e => go(['try', e.target.value])},
    h('option', {value: ''}, 'choose an endpoint'), endpoints.map(e => h('option', {value: e.endpoint, selected: e.endpoint === name}, e.endpoint)));
  if (!name) {
    fill(ctx.root, h('h1', null, 'Try it'), section('Endpoint', chooser));
    if (endpoints.length) go(['try', endpoints[0].endpoint]);
    return;
  }
  const pinned = ctx.query.get('version');
  const metadata = await api(pinned ? `/v2/models/${enc(name)}/versions/${enc(pinned)}` : `/v2/models/${enc(name)}`);
  const served = endpoints.find(e => e.endpoint === name);
  const modelName = served ? served.model : name;
  const version = await api(`/api/v1/models/${enc(modelName)}/versions/${enc(metadata.parameters.model_version)}`);
  if (!ctx.alive()) return;
  const features = version.schema?.features || metadata.inputs.slice(1).map(i => ({name: i.name, type: 'numeric'}));
  const inputs = new Map();
  const fields = features.map(f => {
    let input;
    if (f.categories && f.categories.length) {
      input = h('select', {'data-feature': f.name}, h('option', {value: ''}, '(missing)'), f.categories.map(c => h('option', {value: c}, c)));
    } else {
      input = h('input', {type: 'number', step: 'any', placeholder: 'missing', 'data-feature': f.name});
    }
    inputs.set(f.name, {input, feature: f});
    return h('label', null, `${f.name} · ${f.type}`, input);
  });
  const protocol = h('select', {'data-testid': 'try-protocol'},
    h('option', {value: 'mlflow'}, 'MLflow invocations (/endpoints/NAME/invocations)'),
    h('option', {value: 'v2'}, 'Open Inference Protocol v2 (/v2/models/NAME/infer)'));
  if (pinned) protocol.value = 'v2';
  const submit = h('button', {type: 'submit', 'data-testid': 'try-submit'}, 'Predict');
  // A starting point: the inputs of this endpoint's latest logged prediction.
  const prefill = h('button', {type: 'button', class: 'secondary', 'data-testid': 'try-prefill', onclick: async () => {
    try {
      const page = await api(`/api/v1/predictions?endpoint=${enc(name)}&limit=1&shadows=0`);
      const last = page.predictions[0];
      if (!last || Array.isArray(last.inputs)) {
        fill(result, errorBox({title: 'Nothing to copy:', message: `${name} has no logged prediction with named inputs yet.`, hint: 'Type the values in, or send a request first.'}));
        return;
      }
      for (const [feature, {input, feature: f}] of inputs) {
        const value = last.inputs[feature];
        input.value = value === null || value === undefined ? '' : (f.categories && f.categories.length ? (f.categories[value] ?? '') : String(value));
      }
    } catch (err) {
      fill(result, errorBox(err));
    }
  }}, 'Fill from the latest prediction');
  const result = h('div', {'data-testid': 'try-result'});
  const form = h('form', {onsubmit: async e => {
    e.preventDefault();
    const row = {};
    const problems = [];
    for (const [feature, {input, feature: f}] of inputs) {
      const text = input.value.trim();
      if (text === '') { row[feature] = null; continue; }
      if (f.categories && f.categories.length) { row[feature] = text; continue; }
      const value = Number(text);
      if (!Number.isFinite(value)) problems.push(`${feature}: "${text}" is not a number`);
      row[feature] = value;
    }
    if (problems.length) { fill(result, errorBox({title: 'Not sent:', message: problems.join('; '), hint: 'Enter numbers, or leave a field empty for a missing value.'})); return; }
    submit.disabled = true;
    try {
      await send(row);
    } catch (err) {
      fill(result, errorBox(err));
    } finally {
      submit.disabled = false;
    }
  }}, h('div', {class: 'form-grid', 'data-testid': 'try-form'}, fields),
    h('div', {class: 'row'}, h('label', null, 'Protocol', protocol), submit, prefill));

  async function send(row) {
    let path, body;
    if (protocol.value === 'mlflow') {
      path = `/endpoints/${enc(name)}/invocations`;
      body = {dataframe_records: [row]};
    } else {
      path = pinned ? `/v2/models/${enc(name)}/versions/${enc(pinned)}/infer` : `/v2/models/${enc(name)}/infer`;
      body = {inputs: Object.entries(row).map(([feature, value]) => typeof value === 'string'
        ? {name: feature, shape: [1], datatype: 'BYTES', data: [value]}
        : {name: feature, shape: [1], datatype: 'FP64', data: [value]})};
    }
    const response = await api(path, {method: 'POST', body, raw: true});
    const answer = response.body;
    const versionHeader = response.headers.get('orchard-model-version');
    let values, ids;
    if (protocol.value === 'mlflow') {
      values = answer.predictions[0];
      ids = answer.prediction_ids || [];
    } else {
      values = answer.outputs[0].data;
      ids = answer.parameters?.prediction_ids || [];
    }
    values = Array.isArray(values) ? values : [values];
    const outputNames = version.schema?.outputs || [];
    const id = ids[0] || response.headers.get('orchard-prediction-id');
    fill(result, section('Answer',
      h('dl', {class: 'facts'},
        h('dt', null, 'Prediction'), h('dd', {'data-testid': 'try-prediction'}, values.map((v, i) => h('div', null, `${outputNames[i] || (values.length > 1 ? `output ${i}` : 'prediction')}: `,
          h('strong', {class: 'mono'}, num(v, 6))))),
        h('dt', null, 'Answered by'), h('dd', {'data-testid': 'try-version'}, versionHeader || `${name}:${answer.model_version}`),
        h('dt', null, 'Prediction id'), h('dd', null, id ? link(`#/predictions/${id}`, id, {class: 'mono', 'data-testid': 'try-prediction-id'}) : 'none (the prediction log is off)')),
      h('h3', null, 'The request'),
      h('pre', {'data-testid': 'try-curl'}, `curl -s ${location.origin}${path} -H 'content-type: application/json' \\\n  -d '${JSON.stringify(body)}'`)));
  }

  fill(ctx.root,
    h('h1', null, `Try ${name}`),
    h('div', {class: 'card row'}, h('label', null, 'Endpoint', chooser),
      h('span', {class: 'muted'}, pinned ? `Pinned to version ${pinned}. ` : `Routed like any request (the route picks the version). `,
        `Form built from ${modelName} v${metadata.parameters.model_version}'s schema: ${features.length} feature(s); objective ${metadata.parameters.objective}.`)),
    section('Inputs', form), result);
}
