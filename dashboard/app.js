// Switchyard dashboard: hash-routed views over /api, kept current by /api/events (SSE) or, without it, by polling.
// No build step and no dependencies: each view renders HTML strings into its own element in one assignment.

const POLL_MS = 2000;
const DEBOUNCE_MS = 150;
const SEARCH_MS = 120;

// === helpers

const $ = (selector, root = document) => root.querySelector(selector);
const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const esc = (value) => String(value ?? '').replace(/[&<>"']/g, (c) => ESC[c]);
const enc = encodeURIComponent;
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

function ago(iso) {
  const t = Date.parse(iso);
  if (!iso || Number.isNaN(t)) return '';
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

const time = (iso) => (iso ? `<time datetime="${esc(iso)}" title="${esc(new Date(iso).toLocaleString())}">${esc(ago(iso))}</time>` : '–');

function priority(p) {
  if (typeof p !== 'number') return '';
  return p >= 2 ** 53 ? '<span title="maximum priority (internal)">max</span>' : String(p);
}

const tag = (text, cls = '') => `<span class="tag${cls ? ` ${cls}` : ''}">${esc(text)}</span>`;
const tags = (list) => (list || []).map((t) => tag(t)).join(' ');
const protoOf = (params) => (['tcp', 'udp'].includes(params.get('proto')) ? params.get('proto') : 'http');
const protoQuery = (proto) => (proto !== 'http' ? `?proto=${proto}` : '');
const crumbs = (kind, proto) => `<p class="crumbs"><a href="#/${kind}${protoQuery(proto)}">${kind[0].toUpperCase()}${kind.slice(1)}</a> /</p>`;
const callout = (cls, html, id = '') => `<div class="callout ${cls}"${id ? ` id="${id}"` : ''}>${html}</div>`;
const messages = (list, cls, id) => (list?.length ? callout(cls, `<ul>${list.map((m) => `<li>${esc(m)}</li>`).join('')}</ul>`, id) : '');
const node = (cls, title, body, attrs = '') => `<div class="node ${cls}"${attrs}><h3>${title}</h3>${body}</div>`;

const options = (values, chosen) => values.map((v) => `<option${v === chosen ? ' selected' : ''}>${esc(v)}</option>`).join('');
const thead = (...labels) => `<thead><tr>${labels.map((l) => `<th>${l}</th>`).join('')}</tr></thead>`;
const daysBadge = (d) => badge(`${d} d`, d < 14 ? 'err' : d < 30 ? 'warn' : 'ok');

const STATUS_CLASS = { enabled: 'ok', UP: 'ok', warning: 'warn', disabled: 'err', DOWN: 'err', error: 'err' };
const badge = (text, cls = STATUS_CLASS[text] || 'neutral') => `<span class="badge ${cls}">${esc(text)}</span>`;

// The issue as one line: "source:line:column: keyPath: message".
function issueSource(issue) {
  const loc = issue.location || {};
  let text = loc.source || 'unknown source';
  if (loc.line != null) text += `:${loc.line}`;
  if (loc.line != null && loc.column != null) text += `:${loc.column}`;
  return text;
}

function issueHTML(issue) {
  const key = issue.keyPath ? `<span class="key">${esc(issue.keyPath)}</span>: ` : '';
  return `<li class="issue" data-severity="${esc(issue.severity)}">${badge(issue.severity)} ` +
    `<span class="src">${esc(issueSource(issue))}</span>: ${key}<span class="msg">${esc(issue.message)}</span></li>`;
}

// The same issue reported twice (e.g. once per entry point) is shown once.
function uniqueIssues(issues) {
  const seen = new Set();
  return (issues || []).filter((i) => {
    const k = JSON.stringify([i.severity, i.location, i.keyPath, i.message]);
    return seen.has(k) ? false : seen.add(k);
  });
}

function fmtRate(v) {
  if (v == null) return '–';
  return v >= 100 ? `${Math.round(v)}/s` : `${+v.toFixed(v >= 10 ? 1 : 2)}/s`;
}
const fmtPct = (v) => (v == null ? '–' : `${+(v * 100).toFixed(v < 0.1 ? 1 : 0)}%`);
const fmtMs = (v) => (v == null ? '–' : v >= 1000 ? `${+(v / 1000).toFixed(2)} s` : `${+v.toFixed(v < 10 ? 1 : 0)} ms`);

function sparkline(requests, errors, width = 90, height = 20) {
  if (!Array.isArray(requests) || requests.length < 2) return '';
  const max = Math.max(1, ...requests);
  const step = width / (requests.length - 1);
  const points = (values) =>
    values.map((v, i) => `${(i * step).toFixed(1)},${(height - 1 - ((v || 0) / max) * (height - 2)).toFixed(1)}`).join(' ');
  const err = Array.isArray(errors) && errors.some((v) => v > 0) ? `<polyline class="e" points="${points(errors)}"/>` : '';
  return `<svg class="spark" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" preserveAspectRatio="none" aria-hidden="true">` +
    `<polyline points="${points(requests)}"/>${err}</svg>`;
}

const routeLink = (kind, name, proto = 'http') => `<a href="#/${kind}/${enc(name)}${protoQuery(proto)}">${esc(name)}</a>`;

// A URL to try a router in the tester, from the first Host and Path/PathPrefix of its rule.
function sampleURL(rule) {
  const host = /Host\(`([^`*]+)`/.exec(rule || '');
  const path = /Path(?:Prefix)?\(`([^`{]*)/.exec(rule || '');
  return `http://${host ? host[1] : 'example.com'}${path ? path[1] : '/'}`;
}

// === API access. Results are cached per configuration version: what only a new version can change is fetched once per
// version; `fresh` fetches again (health, traffic) and keeps the previous object when the body did not change, so views
// can skip re-rendering by comparing references.

class APIError extends Error {
  constructor(status, text, path) {
    super(`${path}: ${status} ${text.trim().slice(0, 200)}`);
    this.status = status;
    this.text = text.trim();
  }
}

const cache = new Map();

async function api(path, { fresh = false } = {}) {
  const hit = cache.get(path);
  if (!fresh && hit && hit.version === state.version) return hit.data;
  const response = await fetch(path, { cache: 'no-store', headers: { Accept: 'application/json' } });
  const text = await response.text();
  if (!response.ok) throw new APIError(response.status, text, path);
  if (hit && hit.text === text) {
    hit.version = state.version;
    return hit.data;
  }
  const data = JSON.parse(text);
  if (cache.size > 300) cache.clear();
  cache.set(path, { version: state.version, text, data });
  return data;
}

// Data of an endpoint that may not exist yet on this server: null on 404.
async function optional(path, options) {
  try {
    return await api(path, options);
  } catch (e) {
    if (e.status === 404) return null;
    throw e;
  }
}

const state = { version: null, created: null, overview: null, mode: 'connecting', traffic: undefined };

async function loadOverview() {
  const overview = await api('/api/overview', { fresh: true });
  state.overview = overview;
  state.version = overview.version;
  state.created = overview.versionCreated;
  renderHeader();
  return overview;
}

// Traffic per router and service, or null when this server has no /api/traffic (then it is not asked again).
async function loadTraffic() {
  if (state.traffic === false) return null;
  try {
    const data = await api('/api/traffic', { fresh: true });
    state.traffic = true;
    return data;
  } catch (e) {
    if (e.status === 404) {
      state.traffic = false;
      return null;
    }
    throw e;
  }
}

const listPath = (proto, kind) => `/api/${proto}/${kind}?per_page=100000`;

async function issues() {
  const raw = await api('/api/rawdata');
  return uniqueIssues(raw.errors);
}

// === header: version, its age, live mode, issue count

function renderHeader() {
  const el = $('#version');
  if (state.version != null) {
    el.textContent = `v${state.version} · ${ago(state.created)}`;
    el.dataset.version = state.version;
    el.title = `Version ${state.version}, created ${state.created ? new Date(state.created).toLocaleString() : '?'}`;
  }
  const o = state.overview;
  const count = $('#nav-issues');
  if (o && o.issues) {
    const n = (o.issues.errors || 0) + (o.issues.warnings || 0);
    count.hidden = n === 0;
    count.textContent = n;
    count.className = `count ${o.issues.errors ? 'err' : 'warn'}`;
  }
}

function setMode(mode, title) {
  state.mode = mode;
  const el = $('#live');
  el.dataset.mode = mode;
  el.title = title;
  el.lastElementChild.textContent = mode;
}

function setBanner(text) {
  const el = $('#banner');
  el.hidden = !text;
  el.textContent = text || '';
}

// === routing: #/section/name?query

const routes = {
  '': () => overviewView(),
  routers: (parts, params) => (parts[1] ? routerView(parts[1], params) : listView('routers', params)),
  services: (parts, params) => (parts[1] ? serviceView(parts[1], params) : listView('services', params)),
  middlewares: (parts, params) => (parts[1] ? middlewareView(parts[1], params) : listView('middlewares', params)),
  errors: (parts, params) => errorsView(params),
  history: (parts) => historyView(parts[1]),
  explain: (parts, params) => explainView(params),
  certificates: () => certificatesView(),
};

function parseHash() {
  const hash = location.hash.replace(/^#\/?/, '');
  const q = hash.indexOf('?');
  const path = q < 0 ? hash : hash.slice(0, q);
  const parts = path.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  return { parts, params: new URLSearchParams(q < 0 ? '' : hash.slice(q + 1)) };
}

// Rewrites the query of the current hash without a navigation (filters, search, sort).
function replaceParams(params) {
  const base = location.hash.split('?')[0] || '#/';
  const q = params.toString();
  history.replaceState(null, '', q ? `${base}?${q}` : base);
}

let current = null;

function navigate() {
  const { parts, params } = parseHash();
  const section = parts[0] || '';
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('active', a.dataset.nav === (section || 'overview'));
  }
  const view = $('#view');
  view.innerHTML = '';
  window.scrollTo(0, 0);
  const make = routes[section];
  current = make ? make(parts, params) : notFoundView();
  view.append(current.el);
  refreshNow();
}

// === refresh: on an event, a poll, or a navigation; one at a time, coalesced

let refreshTimer = null;
let refreshing = false;
let refreshAgain = false;

function scheduleRefresh(delay = DEBOUNCE_MS) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refreshNow, delay);
}

async function refreshNow() {
  clearTimeout(refreshTimer);
  if (refreshing) {
    refreshAgain = true;
    return;
  }
  refreshing = true;
  try {
    await loadOverview();
    const view = current;
    await view?.refresh?.();
    setBanner('');
  } catch (e) {
    console.error(e);
    setBanner(e instanceof APIError ? `The API answered ${e.message}` : 'Switchyard is not reachable; retrying…');
  } finally {
    refreshing = false;
    if (refreshAgain) {
      refreshAgain = false;
      scheduleRefresh(0);
    }
  }
}

// live updates: SSE when the server has /api/events, polling otherwise (and while SSE reconnects)

let pollTimer = null;

function startPolling() {
  if (!pollTimer) pollTimer = setInterval(() => document.hidden || scheduleRefresh(0), POLL_MS);
}

function stopPolling() {
  clearInterval(pollTimer);
  pollTimer = null;
}

function connectEvents() {
  if (!window.EventSource) {
    setMode('polling', `Polling every ${POLL_MS / 1000} s`);
    startPolling();
    return;
  }
  const source = new EventSource('/api/events');
  let opened = false;
  source.onopen = () => {
    opened = true;
    setMode('live', 'Live: server-sent events from /api/events');
    stopPolling();
    scheduleRefresh(0);
  };
  source.onerror = () => {
    startPolling();
    if (source.readyState === EventSource.CLOSED) {
      source.close();
      setMode('polling', `No event stream; polling every ${POLL_MS / 1000} s`);
      setTimeout(connectEvents, opened ? 3000 : 60000);
    } else {
      setMode('polling', 'Event stream lost; polling while it reconnects');
    }
  };
  const onEvent = (e) => {
    try {
      const data = JSON.parse(e.data || '{}');
      if (e.type === 'version' && typeof data.version === 'number' && data.version !== state.version) {
        state.version = data.version;
        state.created = new Date().toISOString();
        renderHeader();
      }
    } catch {
      // an event we cannot read still means something changed
    }
    scheduleRefresh();
  };
  for (const type of ['hello', 'version', 'health', 'certificate', 'message']) source.addEventListener(type, onEvent);
}

// traffic changes without events: views that show it refresh every POLL_MS while SSE is live
setInterval(() => {
  if (state.mode === 'live' && current?.traffic && state.traffic !== false && !document.hidden) scheduleRefresh(0);
}, POLL_MS);
setInterval(renderHeader, 1000);

// === views. Each returns { el, refresh(), traffic? }; refresh fetches and re-renders what changed.

function shell(html) {
  const el = document.createElement('section');
  el.className = 'page';
  el.innerHTML = html;
  return el;
}

// Re-renders only when one of the fetched objects is new (the cache keeps unchanged ones).
function changed(view, ...data) {
  const same = view.last && view.last.length === data.length && view.last.every((d, i) => d === data[i]);
  view.last = data;
  return !same;
}

function notFoundView() {
  return { el: shell('<h1>Not found</h1><p>Nothing lives at this address. <a href="#/">Back to the overview</a>.</p>') };
}

function errorHTML(e, what) {
  if (e.status === 404) return `<div class="empty">${esc(what)} does not exist in version ${esc(state.version)}.</div>`;
  return `<div class="empty err">${esc(e.message)}</div>`;
}

// --- overview

function overviewView() {
  const el = shell(`<h1>Overview</h1>
<div id="overview-issues"></div>
<div class="cards" id="overview-counts"></div>
<div class="columns">
  <div class="panel"><h2>Entry points</h2><div id="overview-entrypoints"></div></div>
  <div class="panel"><h2>Configuration</h2><div id="overview-config"></div></div>
</div>
<div class="panel" id="overview-traffic-panel" hidden><h2>Busiest routers</h2><div id="overview-traffic"></div></div>`);
  const view = { el, traffic: true };
  view.refresh = async () => {
    const o = state.overview;
    const [entryPoints, problems, certs, traffic] = await Promise.all([
      api('/api/entrypoints'),
      o.issues && o.issues.errors + o.issues.warnings > 0 ? issues() : [],
      optional('/api/tls/certificates'),
      loadTraffic(),
    ]);
    if (!changed(view, o, entryPoints, problems, certs, traffic)) return;
    $('#overview-issues', el).innerHTML = problems.length
      ? `<div class="callout ${o.issues.errors ? 'err' : 'warn'}"><h2>${plural(o.issues.errors || 0, 'error')} · ` +
        `${plural(o.issues.warnings || 0, 'warning')}</h2><ul class="issues">${problems.slice(0, 5).map(issueHTML).join('')}</ul>` +
        `${problems.length > 5 ? `<a href="#/errors">All ${problems.length} issues →</a>` : '<a href="#/errors">Issues →</a>'}</div>`
      : '<div class="callout ok">No configuration issues.</div>';
    $('#overview-counts', el).innerHTML = countCards(o);
    $('#overview-entrypoints', el).innerHTML = `<table class="grid compact">${thead('Name', 'Address', '')}<tbody>${entryPoints
      .map((ep) => `<tr data-entrypoint="${esc(ep.name)}"><td>${esc(ep.name)}</td><td><code>${esc(ep.address)}</code></td>` +
        `<td><a href="#/routers?entryPoint=${enc(ep.name)}">routers →</a></td></tr>`).join('')}</tbody></table>`;
    const soonest = certs?.certificates?.slice().sort((a, b) => a.daysLeft - b.daysLeft)[0];
    $('#overview-config', el).innerHTML = `<dl class="props">
<dt>Version</dt><dd><a href="#/history/${esc(o.version)}">v${esc(o.version)}</a> · ${time(o.versionCreated)}</dd>
<dt>Providers</dt><dd>${tags(o.providers) || '–'}</dd>
<dt>Features</dt><dd>${Object.entries(o.features || {}).map(([f, v]) => tag(v && v !== true ? `${f}: ${v}` : f, v ? 'on' : 'off')).join(' ')}</dd>
<dt>Certificates</dt><dd>${certs ? `<a href="#/certificates">${plural(certs.certificates.length, 'certificate')}</a>${soonest ? ` · next expiry in ${daysBadge(soonest.daysLeft)}` : ''}` : '–'}</dd>
</dl>`;
    const top = traffic ? Object.entries(traffic.routers || {}).sort((a, b) => b[1].rate - a[1].rate).slice(0, 8) : [];
    $('#overview-traffic-panel', el).hidden = top.length === 0;
    $('#overview-traffic', el).innerHTML = `<table class="grid compact"><tbody>${top
      .map(([name, t]) => `<tr><td>${routeLink('routers', name)}</td>${trafficCells(t)}</tr>`).join('')}</tbody></table>`;
  };
  return view;
}

function countCards(o) {
  const card = ([proto, kind]) => {
    const c = o[proto]?.[kind];
    if (!c) return '';
    const ok = c.total - c.warnings - c.errors;
    return `<a class="card${proto !== 'http' && !c.total ? ' dim' : ''}" href="#/${kind}${protoQuery(proto)}" data-count="${proto}.${kind}">
<span class="label">${proto} ${kind}</span><span class="big">${c.total}</span>
<span class="split"><span class="ok" title="enabled">${ok} ok</span><span class="warn" title="warnings">${c.warnings} warn</span><span class="err" title="errors">${c.errors} err</span></span></a>`;
  };
  return ['http.routers', 'http.services', 'http.middlewares', 'tcp.routers', 'tcp.services', 'udp.routers', 'udp.services']
    .map((k) => card(k.split('.'))).join('');
}

function trafficCells(t) {
  if (!t) return '<td class="num muted">–</td><td class="num muted">–</td><td class="num muted">–</td><td></td>';
  return `<td class="num">${fmtRate(t.rate)}</td><td class="num${t.errorRate > 0.05 ? ' bad' : ''}">${fmtPct(t.errorRate)}</td>` +
    `<td class="num" title="p50 ${esc(fmtMs(t.p50))}">${fmtMs(t.p99)}</td><td>${sparkline(t.requests, t.errors)}</td>`;
}

// --- routers, services, middlewares tables

const statusColumn = { key: 'status', label: 'Status', value: (i) => i.status, cell: (i) => badge(i.status) };
const nameColumn = (kind) => ({ key: 'name', label: 'Name', value: (i) => i.name, cell: (i, p) => `${routeLink(kind, i.name, p)}${errorMark(i)}` });
const typeColumn = { key: 'type', label: 'Type', value: (i) => i.type || '', cell: (i) => esc(i.type) };
const usedByColumn = { key: 'usedBy', label: 'Used by', value: (i) => (i.usedBy || []).length, cell: (i) => usedBy(i.usedBy, 'routers') };
const providerColumn = { key: 'provider', label: 'Provider', value: (i) => i.provider, cell: (i) => tag(i.provider) };

const LIST_COLUMNS = {
  routers: [
    statusColumn,
    nameColumn('routers'),
    { key: 'rule', label: 'Rule', value: (r) => r.rule || '', cell: (r) => `<code class="rule">${esc(r.rule)}</code>` },
    { key: 'entryPoints', label: 'Entry points', value: (r) => (r.using || r.entryPoints || []).join(','), cell: (r) => `${esc((r.using || r.entryPoints || []).join(', '))}${r.tls ? ' <span class="tag on">TLS</span>' : ''}` },
    { key: 'priority', label: 'Priority', value: (r) => r.priority ?? 0, cell: (r) => priority(r.priority), cls: 'num' },
    { key: 'middlewares', label: 'Middlewares', value: (r) => (r.middlewares || []).length, cell: (r, p) => (r.middlewares || []).map((m) => routeLink('middlewares', m, p)).join(', ') },
    { key: 'service', label: 'Service', value: (r) => r.service || '', cell: (r, p) => (r.service ? routeLink('services', r.service, p) : '') },
    providerColumn,
  ],
  services: [
    statusColumn,
    nameColumn('services'),
    typeColumn,
    { key: 'servers', label: 'Servers', value: (s) => serverCounts(s).total, cell: (s) => serverSummary(s) },
    usedByColumn,
    providerColumn,
  ],
  middlewares: [statusColumn, nameColumn('middlewares'), typeColumn, usedByColumn, providerColumn],
};

const errorMark = (item) => (item.error?.length ? ` <span class="mark" title="${esc(item.error.join('\n'))}">!</span>` : '');

function usedBy(names, kind) {
  if (!names?.length) return '<span class="muted">–</span>';
  const shown = names.slice(0, 3).map((n) => routeLink(kind, n)).join(', ');
  return names.length > 3 ? `${shown} <span class="muted">+${names.length - 3}</span>` : shown;
}

function serverCounts(s) {
  const servers = s.loadBalancer?.servers || [];
  const status = s.serverStatus || {};
  const down = servers.filter((x) => status[x.url || x.address] === 'DOWN').length;
  return { total: servers.length, down };
}

function serverSummary(s) {
  if (s.weighted) return `${plural(s.weighted.services?.length || 0, 'service')}`;
  const { total, down } = serverCounts(s);
  if (!total) return '<span class="muted">–</span>';
  return down ? `${total - down}/${total} ${badge(`${down} down`, 'err')}` : `${total}/${total} ${badge('UP')}`;
}

function listView(kind, params) {
  const proto = protoOf(params);
  const filters = {
    search: params.get('search') || '',
    status: params.get('status') || '',
    provider: params.get('provider') || '',
    entryPoint: params.get('entryPoint') || '',
    sort: params.get('sort') || 'name',
    dir: params.get('dir') === 'desc' ? 'desc' : 'asc',
  };
  const title = kind[0].toUpperCase() + kind.slice(1);
  const traffic = kind !== 'middlewares';
  const el = shell(`<h1>${title}</h1>
<div class="toolbar">
  <input type="search" id="search" placeholder="Search name, rule, service…" value="${esc(filters.search)}" aria-label="Search" autocomplete="off">
  <select id="f-proto" aria-label="Protocol">${options(['http', 'tcp', 'udp'], proto)}</select>
  <select id="f-status" aria-label="Status"><option value="">Any status</option>${options(['enabled', 'warning', 'disabled'], filters.status)}</select>
  <select id="f-provider" aria-label="Provider"><option value="">Any provider</option></select>
  ${kind === 'routers' ? '<select id="f-entrypoint" aria-label="Entry point"><option value="">Any entry point</option></select>' : ''}
  <span id="list-count" class="muted"></span>
</div>
<div class="table-wrap"><table class="grid" id="${kind}-table"><thead></thead><tbody></tbody></table></div>
<p id="list-empty" class="empty" hidden>Nothing matches.</p>`);
  const table = $('table', el);
  const view = { el, traffic };
  let items = [];
  let trafficData = null;

  const columns = () => {
    const cols = LIST_COLUMNS[kind].slice();
    if (traffic && trafficData) {
      const t = (item) => trafficData[kind]?.[item.name];
      cols.push({ key: 'rate', label: 'Req/s', value: (i) => t(i)?.rate ?? -1, cls: 'num', cell: (i) => fmtRate(t(i)?.rate) },
        { key: 'errorRate', label: 'Errors', value: (i) => t(i)?.errorRate ?? -1, cls: 'num', cell: (i) => fmtPct(t(i)?.errorRate) },
        { key: 'p99', label: 'p99', value: (i) => t(i)?.p99 ?? -1, cls: 'num', cell: (i) => (t(i) ? `<span title="p50 ${esc(fmtMs(t(i).p50))}">${fmtMs(t(i).p99)}</span>` : '–') },
        { key: 'spark', label: 'Last 60 s', cell: (i) => (t(i) ? `<span title="last hit ${esc(t(i).lastHit ? ago(t(i).lastHit) : 'never')}">${sparkline(t(i).requests, t(i).errors, 72)}</span>` : '') });
    }
    return cols;
  };

  const syncParams = () => {
    const p = new URLSearchParams();
    if (proto !== 'http') p.set('proto', proto);
    for (const k of ['search', 'status', 'provider', 'entryPoint']) if (filters[k]) p.set(k, filters[k]);
    if (filters.sort !== 'name') p.set('sort', filters.sort);
    if (filters.dir !== 'asc') p.set('dir', filters.dir);
    replaceParams(p);
  };

  const fillSelect = (select, values, chosen) => {
    const first = select.options[0].outerHTML;
    const all = [...new Set([...values, ...(chosen ? [chosen] : [])])].sort();
    select.innerHTML = first + options(all, chosen);
  };

  const render = () => {
    const cols = columns();
    const needle = filters.search.toLowerCase();
    const rows = items.filter((item) =>
      (!filters.status || item.status === filters.status) &&
      (!filters.provider || item.provider === filters.provider) &&
      (!filters.entryPoint || (item.using || item.entryPoints || []).includes(filters.entryPoint)) &&
      (!needle || searchText(item).includes(needle)));
    const col = cols.find((c) => c.key === filters.sort && c.value) || cols[1];
    const sign = filters.dir === 'desc' ? -1 : 1;
    rows.sort((a, b) => {
      const x = col.value(a);
      const y = col.value(b);
      const d = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return sign * d || a.name.localeCompare(b.name);
    });
    table.tHead.innerHTML = `<tr>${cols.map((c) => c.value
      ? `<th data-sort="${c.key}" class="${c.cls || ''}" aria-sort="${c === col ? (sign > 0 ? 'ascending' : 'descending') : 'none'}"><button type="button">${c.label}</button></th>`
      : `<th>${c.label}</th>`).join('')}</tr>`;
    const attr = kind.slice(0, -1);
    table.tBodies[0].innerHTML = rows.map((item) =>
      `<tr data-${attr}="${esc(item.name)}" data-status="${esc(item.status)}">${cols.map((c) => `<td class="${c.cls || ''}">${c.cell(item, proto)}</td>`).join('')}</tr>`).join('');
    $('#list-count', el).textContent = rows.length === items.length ? plural(items.length, kind.slice(0, -1)) : `${rows.length} of ${items.length}`;
    $('#list-empty', el).hidden = rows.length > 0;
    table.dataset.count = rows.length;
    table.dataset.rendered = performance.now().toFixed(1);
  };

  const searchText = (item) => {
    if (!item._search) {
      item._search = [item.name, item.rule, item.service, item.provider, item.type, ...(item.middlewares || []), ...(item.using || [])]
        .filter(Boolean).join(' ').toLowerCase();
    }
    return item._search;
  };

  const onSearch = debounce(() => {
    filters.search = $('#search', el).value.trim();
    syncParams();
    render();
  }, SEARCH_MS);
  $('#search', el).addEventListener('input', onSearch);
  el.addEventListener('change', (e) => {
    const id = e.target.id;
    if (id === 'f-proto') {
      const p = new URLSearchParams();
      if (e.target.value !== 'http') p.set('proto', e.target.value);
      location.hash = `#/${kind}${p.toString() ? `?${p}` : ''}`;
      return;
    }
    if (id === 'f-status') filters.status = e.target.value;
    else if (id === 'f-provider') filters.provider = e.target.value;
    else if (id === 'f-entrypoint') filters.entryPoint = e.target.value;
    else return;
    syncParams();
    render();
  });
  table.addEventListener('click', (e) => {
    const th = e.target.closest('th[data-sort]');
    if (!th) return;
    const key = th.dataset.sort;
    const numeric = ['priority', 'rate', 'errorRate', 'p99', 'servers', 'usedBy'].includes(key);
    filters.dir = filters.sort === key ? (filters.dir === 'asc' ? 'desc' : 'asc') : numeric ? 'desc' : 'asc';
    filters.sort = key;
    syncParams();
    render();
  });

  view.refresh = async () => {
    const fresh = kind === 'services';
    const [list, t] = await Promise.all([
      proto === 'udp' && kind === 'middlewares' ? [] : api(listPath(proto, kind), { fresh }),
      traffic ? loadTraffic() : null,
    ]);
    if (!changed(view, list, t)) return;
    items = list;
    trafficData = t;
    fillSelect($('#f-provider', el), items.map((i) => i.provider), filters.provider);
    if (kind === 'routers') fillSelect($('#f-entrypoint', el), items.flatMap((i) => i.using || i.entryPoints || []), filters.entryPoint);
    render();
  };
  return view;
}

// --- router detail: entry points → middlewares → service → servers

function routerView(name, params) {
  const proto = protoOf(params);
  const el = shell('<div id="router-detail"><p class="muted">Loading…</p></div>');
  const view = { el, traffic: true };
  const box = $('#router-detail', el);
  view.refresh = async () => {
    let router;
    try {
      router = await api(`/api/${proto}/routers/${enc(name)}`, { fresh: true });
    } catch (e) {
      if (changed(view, e.status)) box.innerHTML = `<h1>${esc(name)}</h1>${errorHTML(e, `The router ${name}`)}`;
      return;
    }
    const [entryPoints, middlewares, tree, traffic] = await Promise.all([
      api('/api/entrypoints'),
      Promise.all((router.middlewares || []).map((m) => fetchOr(`/api/${proto}/middlewares/${enc(m)}`, m))),
      router.service ? serviceTree(proto, router.service) : null,
      loadTraffic(),
    ]);
    const t = traffic?.routers?.[router.name];
    if (!changed(view, router, entryPoints, ...middlewares, ...flattenTree(tree).map((n) => n.svc), t)) return;
    const eps = router.using || router.entryPoints || [];
    const address = Object.fromEntries(entryPoints.map((ep) => [ep.name, ep.address]));
    box.innerHTML = `${crumbs('routers', proto)}
<h1>${esc(router.name)} ${badge(router.status)}</h1>
${messages(router.error, router.status === 'disabled' ? 'err' : 'warn', 'router-errors')}
<div class="panel"><h2>Flow</h2><div class="flow" id="flow">
${node('entry', 'Entry points', `<ul>${eps.map((ep) => `<li data-entrypoint="${esc(ep)}"><b>${esc(ep)}</b> <code>${esc(address[ep] || '')}</code></li>`).join('') || '<li class="muted">none</li>'}</ul>`)}
${node('rule', 'Rule', `<code>${esc(router.rule || '')}</code><small>priority ${priority(router.priority)}</small>`)}
${middlewares.map((m) => middlewareNode(m.name, proto, m.missing ? badge('missing', 'err') : `<small>${esc(m.type || '')}</small>`)).join('')}
${tree ? flowService(tree, proto) : node('svc', 'Service', '<span class="muted">none</span>')}
</div></div>
<div class="columns">
  <div class="panel"><h2>Router</h2><dl class="props">
  <dt>Entry points</dt><dd>${esc((router.entryPoints || []).join(', ') || 'all')}${router.using ? ` <span class="muted">(using ${esc(router.using.join(', '))})</span>` : ''}</dd>
  <dt>TLS</dt><dd>${router.tls ? `<code>${esc(JSON.stringify(router.tls))}</code>` : 'no'}</dd>
  <dt>Provider</dt><dd>${tag(router.provider)}</dd>
  </dl>${proto === 'http' ? `<p><a class="button" href="#/explain?url=${enc(sampleURL(router.rule))}${eps[0] ? `&entryPoint=${enc(eps[0])}` : ''}">Test a request →</a></p>` : ''}</div>
  ${trafficPanel(t)}
</div>`;
  };
  return view;
}

async function fetchOr(path, name) {
  try {
    return await api(path, { fresh: true });
  } catch (e) {
    if (e.status === 404) return { name, missing: true };
    throw e;
  }
}

const qualify = (name, provider) => (name.includes('@') || !provider ? name : `${name}@${provider}`);

// The service and, for weighted / mirroring / failover services, the services under it (bounded depth).
async function serviceTree(proto, name, depth = 0) {
  const svc = await fetchOr(`/api/${proto}/services/${enc(name)}`, name);
  const refs = [];
  if (depth < 4 && !svc.missing) {
    for (const c of svc.weighted?.services || []) refs.push({ role: `weight ${c.weight ?? 1}`, name: c.name });
    if (svc.mirroring) {
      refs.push({ role: 'main', name: svc.mirroring.service });
      for (const m of svc.mirroring.mirrors || []) refs.push({ role: `mirror ${m.percent ?? 0}%`, name: m.name });
    }
    if (svc.failover) {
      refs.push({ role: 'main', name: svc.failover.service });
      if (svc.failover.fallback) refs.push({ role: 'fallback', name: svc.failover.fallback });
    }
  }
  const children = await Promise.all(refs.map(async (r) => ({ role: r.role, node: await serviceTree(proto, qualify(r.name, svc.provider), depth + 1) })));
  return { name, svc, children };
}

const middlewareNode = (name, proto, extra = '') => node('mw', 'Middleware', routeLink('middlewares', name, proto) + extra, ` data-middleware="${esc(name)}"`);
const serviceNode = (name, proto, extra = '') => node('svc', 'Service', routeLink('services', name, proto) + extra, ` data-service="${esc(name)}"`);

const flattenTree = (tree) => (tree ? [tree, ...tree.children.flatMap((c) => flattenTree(c.node))] : []);

function serversHTML(svc) {
  const servers = svc.loadBalancer?.servers || [];
  if (!servers.length) return '<li class="muted">no servers</li>';
  const status = svc.serverStatus || {};
  return servers.map((s) => {
    const url = s.url || s.address || '';
    const st = status[url] || 'unknown';
    return `<li data-server="${esc(url)}" data-service="${esc(svc.name)}" data-status="${esc(st)}">${badge(st, STATUS_CLASS[st] || 'neutral')} <code>${esc(url)}</code>${s.weight != null ? ` <small>w${esc(s.weight)}</small>` : ''}</li>`;
  }).join('');
}

function flowService(tree, proto) {
  const svc = tree.svc;
  const head = serviceNode(tree.name, proto, svc.missing ? badge('missing', 'err') : `<small>${esc(svc.type || (svc.loadBalancer ? 'loadbalancer' : ''))}</small>`);
  const leaves = [];
  const walk = (node, path) => {
    if (node.children.length) for (const c of node.children) walk(c.node, [...path, `${c.node.name} · ${c.role}`]);
    else leaves.push({ node, path });
  };
  walk(tree, []);
  const groups = leaves.map(({ node, path }) => `<div class="group">${path.length ? `<h4>${esc(path.join(' › '))}</h4>` : ''}<ul>${node.svc.missing ? `<li>${badge('missing', 'err')} ${esc(node.name)}</li>` : serversHTML(node.svc)}</ul></div>`);
  return head + node('servers', 'Servers', groups.join(''));
}

function trafficPanel(t) {
  if (!t) return state.traffic ? '<div class="panel"><h2>Traffic</h2><p class="muted">No requests yet.</p></div>' : '';
  return `<div class="panel traffic" id="traffic"><h2>Traffic</h2><div class="stats">
<div><span class="label">Rate</span><b>${fmtRate(t.rate)}</b></div>
<div><span class="label">Errors</span><b class="${t.errorRate > 0.05 ? 'bad' : ''}">${fmtPct(t.errorRate)}</b></div>
<div><span class="label">p50</span><b>${fmtMs(t.p50)}</b></div>
<div><span class="label">p99</span><b>${fmtMs(t.p99)}</b></div>
<div><span class="label">Last hit</span><b>${time(t.lastHit)}</b></div></div>
${sparkline(t.requests, t.errors, 320, 48)}</div>`;
}

// --- service and middleware detail

function serviceView(name, params) {
  const proto = protoOf(params);
  const el = shell('<div id="service-detail"><p class="muted">Loading…</p></div>');
  const view = { el, traffic: true };
  const box = $('#service-detail', el);
  view.refresh = async () => {
    const [tree, traffic] = await Promise.all([serviceTree(proto, name), loadTraffic()]);
    const svc = tree.svc;
    if (svc.missing) {
      if (changed(view, 404)) box.innerHTML = `<h1>${esc(name)}</h1>${errorHTML({ status: 404 }, `The service ${name}`)}`;
      return;
    }
    const t = traffic?.services?.[svc.name];
    if (!changed(view, ...flattenTree(tree).map((n) => n.svc), t)) return;
    const hc = svc.loadBalancer?.healthCheck;
    box.innerHTML = `${crumbs('services', proto)}
<h1>${esc(svc.name)} ${badge(svc.status)}</h1>
${messages(svc.error, 'err')}
<div class="panel"><h2>Servers</h2><div class="flow" id="flow">${flowService(tree, proto)}</div></div>
<div class="columns">
  <div class="panel"><h2>Service</h2><dl class="props">
  <dt>Type</dt><dd>${esc(svc.type || '–')}</dd>
  <dt>Used by</dt><dd>${(svc.usedBy || []).map((r) => routeLink('routers', r, proto)).join(', ') || '–'}</dd>
  <dt>Health check</dt><dd>${hc ? `<code>${esc(JSON.stringify(hc))}</code>` : 'none'}</dd>
  <dt>Provider</dt><dd>${tag(svc.provider)}</dd>
  </dl></div>
  ${trafficPanel(t)}
</div>
<details class="panel"><summary>Definition</summary><pre>${esc(JSON.stringify(svc, null, 2))}</pre></details>`;
  };
  return view;
}

function middlewareView(name, params) {
  const proto = protoOf(params);
  const el = shell('<div id="middleware-detail"><p class="muted">Loading…</p></div>');
  const view = { el };
  const box = $('#middleware-detail', el);
  view.refresh = async () => {
    let m;
    try {
      m = await api(`/api/${proto}/middlewares/${enc(name)}`);
    } catch (e) {
      if (changed(view, e.status)) box.innerHTML = `<h1>${esc(name)}</h1>${errorHTML(e, `The middleware ${name}`)}`;
      return;
    }
    if (!changed(view, m)) return;
    const { name: _n, provider, status, type, usedBy: users, error, ...options } = m;
    box.innerHTML = `${crumbs('middlewares', proto)}
<h1>${esc(m.name)} ${badge(status)}</h1>
${messages(error, 'err')}
<div class="panel"><dl class="props">
  <dt>Type</dt><dd>${esc(type || '–')}</dd>
  <dt>Used by</dt><dd>${(users || []).map((r) => routeLink('routers', r, proto)).join(', ') || '–'}</dd>
  <dt>Provider</dt><dd>${tag(provider)}</dd>
</dl><h2>Options</h2><pre>${esc(JSON.stringify(options, null, 2))}</pre></div>`;
  };
  return view;
}

// --- issues

function errorsView(params) {
  const el = shell(`<h1>Issues</h1>
<div class="toolbar">
  <input type="search" id="search" placeholder="Search source, key, message…" value="${esc(params.get('search') || '')}" aria-label="Search" autocomplete="off">
  <select id="f-severity" aria-label="Severity"><option value="">Errors and warnings</option><option>error</option><option>warning</option></select>
  <span id="list-count" class="muted"></span>
</div>
<div class="panel" id="errors-panel"><ul class="issues"></ul><p class="empty" hidden>No issues: every source was read and every router compiled.</p></div>`);
  const view = { el };
  let all = [];
  const severity = $('#f-severity', el);
  severity.value = params.get('severity') || '';
  const render = () => {
    const needle = $('#search', el).value.trim().toLowerCase();
    const shown = all.filter((i) => (!severity.value || i.severity === severity.value) &&
      (!needle || `${issueSource(i)} ${i.keyPath || ''} ${i.message}`.toLowerCase().includes(needle)));
    shown.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
    $('ul', el).innerHTML = shown.map(issueHTML).join('');
    $('.empty', el).hidden = all.length > 0;
    $('#list-count', el).textContent = `${plural(all.filter((i) => i.severity === 'error').length, 'error')}, ${plural(all.filter((i) => i.severity !== 'error').length, 'warning')}`;
    const p = new URLSearchParams();
    if (needle) p.set('search', needle);
    if (severity.value) p.set('severity', severity.value);
    replaceParams(p);
  };
  $('#search', el).addEventListener('input', debounce(render, SEARCH_MS));
  severity.addEventListener('change', render);
  view.refresh = async () => {
    const list = await issues();
    if (!changed(view, list)) return;
    all = list;
    render();
  };
  return view;
}

// --- history: timeline and the diff of one version

function historyView(selected) {
  const el = shell(`<h1>History</h1>
<div class="history">
  <div class="panel"><h2>Versions</h2><ol id="history-list" class="timeline"></ol></div>
  <div class="panel" id="history-diff"><p class="muted">Choose a version.</p></div>
</div>`);
  const view = { el };
  view.refresh = async () => {
    let versions;
    try {
      versions = await api('/api/history', { fresh: true });
    } catch (e) {
      if (changed(view, e.status)) $('#history-list', el).innerHTML = `<li class="empty">${e.status === 404 ? 'This server keeps no history.' : esc(e.message)}</li>`;
      return;
    }
    const chosen = Number(selected || versions[0]?.version);
    const [diff, detail] = chosen ? await Promise.all([optional(`/api/history/${chosen}/diff`), optional(`/api/history/${chosen}`)]) : [null, null];
    if (!changed(view, versions, diff, detail)) return;
    $('#history-list', el).innerHTML = versions.map((v) => `<li data-version="${v.version}" class="${v.version === chosen ? 'selected' : ''}">
<a href="#/history/${v.version}"><b>v${v.version}</b> ${time(v.created)}</a><span>${v.errors ? badge(plural(v.errors, 'error'), 'err') : ''}</span>
<span class="cause">${tags(v.changed) || '<span class="muted">start</span>'} <span class="muted">· ${plural(v.routers ?? 0, 'router')}</span></span></li>`).join('') || '<li class="empty">No versions yet.</li>';
    $('#history-diff', el).innerHTML = chosen ? diffHTML(chosen, diff, detail) : '<p class="muted">No versions yet.</p>';
  };
  return view;
}

function diffHTML(version, diff, detail) {
  if (!diff) return `<h2>v${esc(version)}</h2><p class="empty">This version is not in the history.</p>`;
  const groups = new Map();
  for (const c of diff.changes || []) {
    if (!groups.has(c.kind)) groups.set(c.kind, []);
    groups.get(c.kind).push(c);
  }
  const kindLink = (kind, name) => {
    const [proto, section] = kind.split('.');
    return ['routers', 'services', 'middlewares'].includes(section) ? routeLink(section, name, proto) : esc(name);
  };
  const certs = diff.certificates && diff.certificates.before !== diff.certificates.after
    ? `<p>Certificates: ${diff.certificates.before} → ${diff.certificates.after}</p>` : '';
  const issueList = uniqueIssues(detail?.issues);
  return `<h2>v${esc(diff.version)} <span class="muted">${diff.previous != null ? `against v${esc(diff.previous)}` : 'first version'}</span></h2>
<p>Changed by ${tags(diff.changed) || '–'}${detail?.created ? ` · ${time(detail.created)}` : ''}</p>
${groups.size ? [...groups].map(([kind, changes]) => `<h3>${esc(kind)}</h3><ul class="changes">${changes.map((c) =>
    `<li data-kind="${esc(c.kind)}" data-name="${esc(c.name)}" data-change="${esc(c.change)}">${badge(c.change, { added: 'ok', removed: 'err', changed: 'warn' }[c.change] || 'neutral')} ${kindLink(c.kind, c.name)}` +
    `${c.fields?.length ? ` <span class="fields">${c.fields.map((f) => `<code>${esc(f)}</code>`).join(' ')}</span>` : ''}</li>`).join('')}</ul>`).join('') : '<p class="muted">No resource changed.</p>'}
${certs}
${issueList.length ? `<h3>Issues in this version</h3><ul class="issues">${issueList.map(issueHTML).join('')}</ul>` : ''}
${detail?.configuration ? `<details><summary>Configuration of v${esc(diff.version)}</summary><pre>${esc(JSON.stringify(detail.configuration, null, 2))}</pre></details>` : ''}`;
}

// --- route tester

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

function explainView(params) {
  const el = shell(`<h1>Route tester</h1>
<form id="explain-form" class="panel form" autocomplete="off">
  <label>Method <select id="explain-method" name="method">${options(METHODS, params.get('method') || 'GET')}</select></label>
  <label class="wide">URL <input id="explain-url" name="url" type="text" required placeholder="http://app.example.com/path" value="${esc(params.get('url') || '')}"></label>
  <label>Entry point <select id="explain-entrypoint" name="entryPoint"></select></label>
  <label>Client IP <input id="explain-clientip" name="clientIP" type="text" placeholder="203.0.113.7" value="${esc(params.get('clientIP') || '')}"></label>
  <label class="full">Headers <textarea id="explain-headers" name="headers" rows="3" placeholder="X-Tenant: acme">${esc(params.getAll('header').join('\n'))}</textarea></label>
  <button id="explain-submit" type="submit">Explain</button>
</form>
<div id="explain-result"></div>`);
  const view = { el };
  const form = $('form', el);
  const result = $('#explain-result', el);
  let lastQuery = null;

  const run = async (query) => {
    result.innerHTML = '<p class="muted">Asking…</p>';
    result.dataset.state = 'loading';
    try {
      const response = await fetch(`/api/explain?${query}`, { cache: 'no-store' });
      const text = await response.text();
      if (response.status === 404) {
        result.innerHTML = callout('warn', 'This server has no route explainer (/api/explain) yet.', 'explain-error');
      } else if (!response.ok) {
        result.innerHTML = callout('err', esc(text || `HTTP ${response.status}`), 'explain-error');
      } else {
        result.innerHTML = explainHTML(JSON.parse(text));
      }
    } catch (e) {
      result.innerHTML = callout('err', esc(e.message), 'explain-error');
    }
    result.dataset.state = 'done';
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    const field = (id) => $(`#explain-${id}`, el).value.trim();
    q.set('method', field('method'));
    q.set('url', field('url'));
    if (field('entrypoint')) q.set('entryPoint', field('entrypoint'));
    if (field('clientip')) q.set('clientIP', field('clientip'));
    for (const line of field('headers').split('\n')) if (line.trim()) q.append('header', line.trim());
    lastQuery = q.toString();
    replaceParams(q);
    run(lastQuery);
  });

  view.refresh = async () => {
    const entryPoints = await api('/api/entrypoints');
    if (changed(view, entryPoints)) {
      const select = $('#explain-entrypoint', el);
      const chosen = select.value || params.get('entryPoint') || (entryPoints.some((ep) => ep.name === 'web') ? 'web' : '');
      select.innerHTML = `<option value="">any</option>${entryPoints.map((ep) => `<option value="${esc(ep.name)}">${esc(ep.name)} (${esc(ep.address)})</option>`).join('')}`;
      select.value = chosen;
      if (lastQuery == null && params.get('url')) form.requestSubmit();
    } else if (lastQuery && view.version !== state.version) {
      run(lastQuery); // the answer may differ under the new version
    }
    view.version = state.version;
  };
  return view;
}

function explainHTML(x) {
  const req = x.request || {};
  const winner = x.winner
    ? `<div class="callout ok" id="explain-winner" data-winner="${esc(x.winner)}">Winner: ${routeLink('routers', x.winner)}</div>`
    : '<div class="callout err" id="explain-winner" data-winner="">No router matches: the request gets 404.</div>';
  const chain = x.serviceChain?.length ? x.serviceChain : x.service ? [x.service] : [];
  const flow = x.winner ? `<div class="panel"><h2>Path</h2><div class="flow" id="explain-flow">
${node('entry', 'Entry point', `<b>${esc(req.entryPoint || '–')}</b>`)}${node('rule', 'Router', routeLink('routers', x.winner))}
${(x.middlewares || []).map((m) => middlewareNode(m)).join('')}${chain.map((s) => serviceNode(s)).join('')}
${node('servers', 'Server', `<ul>${(x.servers || (x.server ? [x.server] : [])).map((s) =>
    `<li data-server="${esc(s.url)}" data-status="${esc(s.status)}">${badge(s.status || 'unknown')} <code>${esc(s.url)}</code>${s.url === x.server?.url ? ' <small>next</small>' : ''}</li>`).join('') || '<li class="muted">none</li>'}</ul>`)}
</div></div>` : '';
  const candidates = (x.candidates || []).map((c) => `<tr data-candidate="${esc(c.router)}" data-matched="${c.matched}" class="${c.router === x.winner ? 'win' : c.matched ? '' : 'miss'}">
<td>${c.matched ? badge(c.router === x.winner ? 'winner' : 'matched', 'ok') : badge('no', 'neutral')}${c.evaluated === false ? ' <small class="muted" title="a router before it answered">not reached</small>' : ''}</td><td>${routeLink('routers', c.router)}</td><td class="num">${priority(c.priority)}</td>
<td><code class="rule">${esc(c.rule)}</code></td><td>${c.failedClause ? `<code class="failed">${esc(c.failedClause)}</code>` : ''}</td></tr>`).join('');
  return `${winner}
<p class="muted">${esc(req.method || '')} <code>${esc(req.host || '')}${esc(req.path || '')}</code> on ${esc(req.entryPoint || 'any entry point')}${req.clientIP ? ` from ${esc(req.clientIP)}` : ''}${req.tls ? ' over TLS' : ''} · version ${esc(x.version)}</p>
${flow}
<div class="panel"><h2>Candidates</h2><div class="table-wrap"><table class="grid" id="explain-candidates">${thead('', 'Router', 'Priority', 'Rule', 'Failed clause')}<tbody>${candidates || '<tr><td colspan="5" class="muted">No router on this entry point.</td></tr>'}</tbody></table></div></div>`;
}

// --- certificates

function certificatesView() {
  const el = shell(`<h1>Certificates</h1><div class="table-wrap"><table class="grid" id="certificates-table">${thead('Names', 'Subject', 'Issuer', 'Valid from', 'Expires', 'Left', 'Source')}<tbody></tbody></table></div>`);
  const view = { el };
  view.refresh = async () => {
    const data = await optional('/api/tls/certificates');
    if (!changed(view, data)) return;
    const certs = (data?.certificates || []).slice().sort((a, b) => a.daysLeft - b.daysLeft);
    $('tbody', el).innerHTML = certs.map((c) => `<tr data-certificate="${esc((c.names || []).join(','))}">
<td>${(c.names || []).map((n) => `<code>${esc(n)}</code>`).join(' ')}${c.isDefault ? ` ${tag('default')}` : ''}</td>
${[c.subject, c.issuer, c.notBefore, c.notAfter].map((v, i) => `<td>${esc(i > 1 && v ? new Date(v).toLocaleDateString() : v)}</td>`).join('')}
<td>${daysBadge(c.daysLeft)}</td><td>${esc(c.source)}</td></tr>`).join('') ||
      `<tr><td colspan="7" class="muted">${data ? 'No certificates.' : 'This server does not list certificates.'}</td></tr>`;
  };
  return view;
}

window.addEventListener('hashchange', navigate);
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) scheduleRefresh(0);
});
connectEvents();
navigate();
