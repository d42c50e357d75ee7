// Calls to Orchard's HTTP API from the browser. Every failure becomes an ApiError whose message says
// what happened and whose hint says how to fix it, shown to the user as is.

const KEY_STORAGE = 'orchard.apiKey';

export class ApiError extends Error {
  constructor(status, method, path, message, hint) {
    super(message);
    this.status = status;
    this.title = status ? `${method} ${path} failed (${status}):` : `${method} ${path} failed:`;
    this.hint = hint;
  }
}

export function apiKey() {
  try { return localStorage.getItem(KEY_STORAGE) || ''; } catch { return ''; }
}
export function setApiKey(key) {
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key); else localStorage.removeItem(KEY_STORAGE);
  } catch { /* private mode: the key lasts for this page only */ }
}

function hintFor(status) {
  if (status === 401) return 'This server needs an API key: set one with the "API key" button at the top right.';
  if (status === 403) return 'Your API key\'s role may not do this: ask an admin for a key with the needed role.';
  if (status === 413) return 'The request is too large for this server (orchard serve --body-limit-mib, --max-rows).';
  if (status === 503) return 'The server is busy or cannot record predictions right now: retry in a moment.';
  if (status >= 500) return 'The server hit an internal error: its terminal (stderr) says more.';
  return '';
}

// fetch() with Orchard's conventions. Options: method, body (object -> JSON, string/Blob as is),
// contentType, headers, raw (return the Response's {status, headers, body} instead of the JSON).
export async function api(path, options = {}) {
  const method = options.method || 'GET';
  const headers = {...(options.headers || {})};
  const key = apiKey();
  if (key) headers.authorization = `Bearer ${key}`;
  let body = options.body;
  if (body !== undefined && typeof body === 'object' && !(body instanceof Blob) && !(body instanceof ArrayBuffer)) {
    body = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  } else if (options.contentType) {
    headers['content-type'] = options.contentType;
  }
  let response;
  try {
    response = await fetch(path, {method, headers, body, cache: 'no-store'});
  } catch (e) {
    throw new ApiError(0, method, path, `the server did not answer (${e.message}).`,
      'Is `orchard serve` still running? Start it again, then reload this page.');
  }
  const text = await response.text();
  let parsed = null;
  const type = response.headers.get('content-type') || '';
  if (type.includes('json') && text) {
    try { parsed = JSON.parse(text); } catch { parsed = null; }
  }
  if (!response.ok && !(options.accept || []).includes(response.status)) {
    const message = parsed && typeof parsed.error === 'string' ? parsed.error : (text.slice(0, 300) || response.statusText);
    throw new ApiError(response.status, method, path, message, hintFor(response.status));
  }
  if (options.raw) return {status: response.status, headers: response.headers, body: parsed ?? text};
  return parsed ?? text;
}

export const get = (path, options) => api(path, options);
export const enc = encodeURIComponent;
