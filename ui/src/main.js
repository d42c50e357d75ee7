// Orchard's web UI: a hash router over one module per page (pages/*.js). Each page renders into
// <main> and registers what to stop (timers, charts) when the user leaves it.
import {h, fill, errorBox} from './dom.js';
import {apiKey, setApiKey} from './api.js';
import * as overview from './pages/overview.js';
import * as models from './pages/models.js';
import * as endpoint from './pages/endpoint.js';
import * as predictions from './pages/predictions.js';
import * as drift from './pages/drift.js';
import * as tryIt from './pages/try.js';
import * as audit from './pages/audit.js';
import * as keys from './pages/keys.js';

const PAGES = [
  {path: 'overview', label: 'Overview', page: overview},
  {path: 'models', label: 'Models', page: models},
  {path: 'endpoints', label: 'Endpoints', page: endpoint},
  {path: 'predictions', label: 'Predictions', page: predictions},
  {path: 'drift', label: 'Drift', page: drift},
  {path: 'try', label: 'Try it', page: tryIt},
  {path: 'audit', label: 'Audit log', page: audit},
  {path: 'keys', label: 'Keys', page: keys},
];

let cleanups = [];
let generation = 0;

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [pathPart, queryPart = ''] = raw.split('?');
  const parts = pathPart.split('/').filter(Boolean).map(decodeURIComponent);
  return {parts, query: new URLSearchParams(queryPart)};
}

async function render() {
  for (const fn of cleanups) { try { fn(); } catch { /* already gone */ } }
  cleanups = [];
  const mine = ++generation;
  const {parts, query} = parseHash();
  if (parts.length === 0) { location.replace('#/overview'); return; }
  const entry = PAGES.find(p => p.path === parts[0]);
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === parts[0]);
  const root = document.getElementById('page');
  if (!entry) {
    fill(root, errorBox({title: 'No such page:', message: `#/${parts.join('/')}`, hint: 'Pick a page from the menu at the top.'}));
    return;
  }
  document.title = `${entry.label} · Orchard`;
  const ctx = {
    root, parts: parts.slice(1), query,
    onCleanup: fn => cleanups.push(fn),
    // Whether the user is still on this page (a slow answer must not draw over the next page).
    alive: () => mine === generation,
    // Re-renders the current page (after a change).
    reload: () => render(),
  };
  fill(root, h('p', {class: 'muted'}, 'Loading…'));
  try {
    await entry.page.render(ctx);
  } catch (e) {
    if (mine === generation) fill(root, h('h1', null, entry.label), errorBox(e));
  }
}

function setupNav() {
  fill(document.getElementById('nav'), PAGES.map(p => h('a', {href: `#/${p.path}`, 'data-page': p.path}, p.label)));
  const button = document.getElementById('key-button');
  const label = () => { button.textContent = apiKey() ? 'API key: set' : 'API key'; };
  label();
  button.addEventListener('click', () => {
    const key = prompt('API key sent with every request (leave empty for none). It stays in this browser only.', apiKey());
    if (key === null) return;
    setApiKey(key.trim());
    label();
    render();
  });
}

window.addEventListener('hashchange', render);
setupNav();
render();
