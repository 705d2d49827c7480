// The status page served by the admin handler at `GET <prefix>/`: one self-contained HTML
// document (inline CSS and JS, nothing loaded from anywhere else) that polls the JSON routes
// next to it (`summary`, `analytics?minutes=5`) every 5 s and draws them.
//
// Rules the page keeps, so it can be served under a strict CSP
// (`default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'`)
// and can show user data (route names, alert messages, query summaries) safely:
// - no external resource of any kind (no fonts, images, CDN scripts), no inline event
//   attributes, no eval;
// - every string from the API reaches the DOM through textContent or setAttribute, never
//   through innerHTML;
// - the token is read from the URL fragment (never sent to a server or written to an access
//   log), kept in sessionStorage, removed from the address bar, and sent as a Bearer header.
//
// The page contains no data itself, which is why the handler serves it without auth.
//
// Layout: from a 320 px phone to a desktop. A table wider than its section scrolls inside it
// (the page never scrolls sideways); names wrap at spaces only, so no column is squeezed to a
// letter per line and no route or statement is cut mid-word (test/admin/page.test.ts).

const CSS = `
:root{color-scheme:light dark;--bg:#f6f7f9;--fg:#1c2024;--muted:#5f6b76;--card:#fff;--line:#dde1e6;
--ok:#1a7f37;--warn:#a05a00;--bad:#c62828;--unk:#6b7280;--db:#3b6fd8;--http:#8e44ad;--cache:#14988a;--own:#b0b7c0;
--low:#6b7280;--medium:#a05a00;--high:#d0461c;--critical:#c62828}
@media (prefers-color-scheme:dark){:root{--bg:#111418;--fg:#e4e7eb;--muted:#98a2ad;--card:#1a1e23;--line:#2c3238;
--ok:#3fb950;--warn:#d29922;--bad:#f85149;--unk:#8b949e;--db:#6d9cf2;--http:#b57edc;--cache:#37c2b2;--own:#59626c;
--low:#8b949e;--medium:#d29922;--high:#f0883e;--critical:#f85149}.sev{color:#0d1117!important}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:1180px;margin:0 auto;padding:16px}
header{display:flex;flex-wrap:wrap;align-items:baseline;gap:8px 16px;margin-bottom:12px}
h1{font-size:18px;margin:0}h2{font-size:14px;margin:0 0 8px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.muted{color:var(--muted)}.grow{flex:1}
.grid{display:grid;gap:12px;grid-template-columns:repeat(auto-fit,minmax(min(320px,100%),1fr));margin-bottom:12px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px;margin-bottom:12px;overflow-x:auto}
.grid section{margin:0;min-width:0}
.hero{display:flex;gap:18px;align-items:center;margin-bottom:12px}
.score{font-size:64px;font-weight:700;line-height:1;font-variant-numeric:tabular-nums;min-width:2ch}
.s-healthy{color:var(--ok)}.s-degraded{color:var(--warn)}.s-unhealthy{color:var(--bad)}.s-unknown{color:var(--unk)}
.status{font-size:20px;font-weight:600;text-transform:capitalize}
dl.figs{display:grid;grid-template-columns:auto 1fr;gap:2px 12px;margin:0}dl.figs dt{color:var(--muted)}dl.figs dd{margin:0;font-variant-numeric:tabular-nums}
.comp{display:grid;grid-template-columns:110px 1fr 36px;gap:2px 8px;align-items:center;margin-bottom:6px}
.comp .detail{grid-column:2/4;font-size:12px;color:var(--muted)}
.bar{height:8px;border-radius:4px;background:var(--line);overflow:hidden;display:flex}
.bar>span{display:block;height:100%}
.b-ok{background:var(--ok)}.b-warn{background:var(--warn)}.b-bad{background:var(--bad)}
.sp-db{background:var(--db)}.sp-http{background:var(--http)}.sp-cache{background:var(--cache)}.sp-own{background:var(--own)}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:right;padding:5px 8px;border-bottom:1px solid var(--line);white-space:nowrap}
th{font-weight:600;color:var(--muted);font-size:12px}
th:first-child,td:first-child{text-align:left;white-space:normal;overflow-wrap:break-word;min-width:8em}
td.split{text-align:left;min-width:180px}td.split .bar{width:160px;margin-bottom:2px}td.split small{color:var(--muted)}
.over{color:var(--bad);font-weight:600}
ul{margin:0;padding-left:18px}li{margin:3px 0}
.alert{display:grid;grid-template-columns:76px 1fr;gap:2px 10px;padding:6px 0;border-bottom:1px solid var(--line)}
.alert:last-child{border-bottom:0}
.sev{font-size:11px;font-weight:700;text-transform:uppercase;border-radius:4px;padding:1px 6px;color:#fff;text-align:center;align-self:start}
.sev-low{background:var(--low)}.sev-medium{background:var(--medium)}.sev-high{background:var(--high)}.sev-critical{background:var(--critical)}
.alert .meta{grid-column:2;font-size:12px;color:var(--muted)}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;user-select:all}
.banner{border-radius:8px;padding:10px 14px;margin-bottom:12px;border:1px solid var(--bad);background:var(--card)}
.banner form{display:flex;gap:8px;margin-top:8px;flex-wrap:wrap}
input{font:inherit;padding:5px 8px;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg);min-width:260px}
button{font:inherit;padding:5px 12px;border-radius:6px;border:1px solid var(--line);background:var(--fg);color:var(--bg);cursor:pointer}
.legend span{display:inline-block;width:9px;height:9px;border-radius:2px;margin:0 4px 0 10px}
[hidden]{display:none!important}
`;

// Plain ES2020, no template literals (this whole script sits inside one).
const JS = `
(function () {
  'use strict';
  var KEY = 'healthspan.token:' + location.pathname;
  var INTERVAL = 5000;
  var memToken = null, timer = null, inFlight = false, again = false, blocked = false, seq = 0;
  var $ = function (id) { return document.getElementById(id); };

  function readToken() {
    try { var t = sessionStorage.getItem(KEY); if (t) return t; } catch (e) { /* storage disabled */ }
    return memToken;
  }
  function saveToken(t) {
    memToken = t || null;
    try { if (t) sessionStorage.setItem(KEY, t); else sessionStorage.removeItem(KEY); } catch (e) { /* memory only */ }
  }
  // #token=... : take it, keep it for this tab, and take it out of the address bar and history.
  (function () {
    if (!location.hash) return;
    var params = new URLSearchParams(location.hash.slice(1));
    var t = params.get('token');
    if (t === null) return;
    saveToken(t);
    params.delete('token');
    var rest = params.toString();
    history.replaceState(history.state, '', location.pathname + location.search + (rest ? '#' + rest : ''));
  })();

  function el(tag, attrs) {
    var n = document.createElement(tag);
    if (attrs) for (var k in attrs) if (attrs[k] !== undefined && attrs[k] !== null) {
      // Widths go through the CSSOM, which no CSP restricts.
      if (k === 'width') n.style.width = String(attrs[k]); else n.setAttribute(k, String(attrs[k]));
    }
    add(n, Array.prototype.slice.call(arguments, 2));
    return n;
  }
  function add(n, c) {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) c.forEach(function (x) { add(n, x); });
    else n.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
  function fill(node) {
    node.replaceChildren.apply(node, Array.prototype.slice.call(arguments, 1).filter(function (c) { return c; }));
  }
  function num(v) { return typeof v === 'number' && isFinite(v) ? v : null; }
  function arr(v) { return Array.isArray(v) ? v : []; }
  function str(v) { return v === null || v === undefined ? '' : String(v); }
  var NF0 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  var NF1 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
  var NF2 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
  function fmtMs(v) { v = num(v); return v === null ? '\\u2014' : (v < 10 ? NF1 : NF0).format(v) + ' ms'; }
  function fmtPct(v) { v = num(v); return v === null ? '\\u2014' : (v > 0 && v < 0.1 ? NF1 : NF0).format(v * 100) + '%'; }
  function fmtRate(v) { v = num(v); return v === null ? '\\u2014' : (v < 10 ? NF2 : NF1).format(v); }
  function fmtBytes(v) { v = num(v); return v === null ? '\\u2014' : NF0.format(v / 1048576) + ' MB'; }
  function fmtDuration(s) {
    s = num(s); if (s === null) return '\\u2014';
    var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    return d ? d + 'd ' + h + 'h' : h ? h + 'h ' + m + 'm' : m ? m + 'm ' + Math.floor(s % 60) + 's' : Math.floor(s) + 's';
  }
  function fmtTime(v) { var d = new Date(v); return isNaN(d.getTime()) ? '' : d.toLocaleTimeString(); }
  var LABELS = { responseTime: 'Response time', errors: 'Errors', resources: 'Resources', database: 'Database', cache: 'Cache' };
  var STATUSES = ['healthy', 'degraded', 'unhealthy', 'unknown'];
  function statusOf(s) { return STATUSES.indexOf(s) >= 0 ? s : 'unknown'; }
  function barClass(score) { return score >= 80 ? 'b-ok' : score >= 50 ? 'b-warn' : 'b-bad'; }

  function showAuth(status, body) {
    blocked = true;
    $('auth').hidden = false;
    $('error').hidden = true;
    var had = !!readToken();
    $('auth-msg').textContent = (status === 403 && !had
      ? 'Access refused (HTTP 403).'
      : had
      ? 'The token was refused (HTTP ' + status + '). Enter the admin token configured for this service.'
      : 'This status page needs the admin token (HTTP ' + status + '). Open it as \\u2026/#token=<token>, or enter it here.')
      + (body && body.error ? ' Server said: ' + str(body.error) : '');
    $('token').focus();
  }
  function showError(msg) { $('error').hidden = false; $('error').textContent = msg; $('updated').textContent = $('updated').textContent.replace(/ \\u00b7 .*$/, '') + ' \\u00b7 retrying'; }

  function getJson(path) {
    var headers = { accept: 'application/json' };
    var t = readToken();
    if (t) headers.authorization = 'Bearer ' + t;
    var opts = { headers: headers, cache: 'no-store', credentials: 'same-origin' };
    if (typeof AbortSignal !== 'undefined' && AbortSignal.timeout) opts.signal = AbortSignal.timeout(10000);
    return fetch(path, opts).then(function (res) {
      return res.text().then(function (text) {
        var body = null;
        try { body = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
        if (res.status === 401 || res.status === 403) { var err = new Error('auth'); err.auth = res.status; err.body = body; throw err; }
        if (!res.ok) throw new Error(path + ': HTTP ' + res.status + (body && body.error ? ' (' + str(body.error) + ')' : ''));
        if (!body || typeof body !== 'object') throw new Error(path + ': the answer is not JSON');
        return body;
      });
    });
  }

  function schedule() {
    clearTimeout(timer); timer = null;
    if (!blocked && !document.hidden) timer = setTimeout(refresh, INTERVAL);
  }
  function refresh() {
    clearTimeout(timer); timer = null;
    if (inFlight) { again = true; return; }
    inFlight = true;
    again = false;
    Promise.all([getJson('summary'), getJson('analytics?minutes=5')]).then(function (r) {
      blocked = false;
      $('auth').hidden = true;
      $('error').hidden = true;
      render(r[0], r[1]);
    }, function (e) {
      if (e && e.auth) showAuth(e.auth, e.body);
      else showError('Could not load the figures: ' + (e && e.name === 'TimeoutError' ? 'no answer in 10 s' : (e && e.message) || e) + '. Retrying every 5 s.');
    }).then(function () { inFlight = false; if (again && !blocked) refresh(); else schedule(); });
  }
  document.addEventListener('visibilitychange', function () {
    if (document.hidden) { clearTimeout(timer); timer = null; } else if (!timer && !blocked) refresh();
  });
  $('auth-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    saveToken($('token').value.trim());
    $('token').value = '';
    blocked = false;
    refresh();
  });

  function render(s, a) {
    var health = a.health || {};
    var status = statusOf(s.status || health.status);
    var score = num(s.score);
    var trend = str(s.trend || health.trend || 'unknown');
    $('service').textContent = str(s.service) || 'service';
    var sc = $('score');
    sc.textContent = score === null ? '\\u2014' : String(score);
    sc.className = 'score s-' + status;
    $('status').textContent = status;
    $('status').className = 'status s-' + status;
    $('trend').textContent = ({ improving: '\\u2197 improving', degrading: '\\u2198 degrading', stable: '\\u2192 stable' })[trend] || 'trend unknown';
    $('trend').setAttribute('data-trend', trend);
    $('window').textContent = 'last ' + (num(a.minutes) || num(s.windowMinutes) || 5) + ' min';
    document.title = (score === null ? '' : score + ' ') + status + ' \\u00b7 ' + (str(s.service) || 'service') + ' \\u2014 healthspan';

    var rq = s.requests || {}, mem = s.memory || {}, cache = s.cache || {};
    var figs = [
      ['Requests', (num(rq.count) === null ? '\\u2014' : NF0.format(rq.count)) + ' (' + fmtRate(rq.ratePerSecond) + ' req/s)'],
      ['Latency', 'mean ' + fmtMs(rq.meanMs) + ' \\u00b7 p95 ' + fmtMs(rq.p95Ms)],
      ['Errors', fmtPct(rq.errorRate)],
      ['Firing alerts', String(num((s.alerts || {}).firing) === null ? '\\u2014' : s.alerts.firing)],
      ['Cache', fmtPct(cache.hitRate) + ' hits of ' + (num(cache.lookups) === null ? '\\u2014' : NF0.format(cache.lookups)) + ' lookups'],
      ['Heap', fmtBytes(mem.heapUsedBytes) + ' of ' + fmtBytes(mem.heapLimitBytes) + (num(mem.heapUsedBytes) !== null && num(mem.heapLimitBytes) ? ' (' + fmtPct(mem.heapUsedBytes / mem.heapLimitBytes) + ')' : '')],
      ['RSS', fmtBytes(mem.rssBytes)],
      ['Event-loop p99', fmtMs(s.eventLoopDelayP99Ms)],
      ['Uptime', fmtDuration(s.uptimeSeconds)],
    ];
    var dl = el('dl', { class: 'figs', 'data-testid': 'figures' });
    figs.forEach(function (f) { dl.appendChild(el('dt', null, f[0])); dl.appendChild(el('dd', null, f[1])); });
    fill($('figures'), dl);

    var comps = arr(health.components).map(function (c) {
      var v = Math.max(0, Math.min(100, num(c.score) || 0));
      return el('div', { class: 'comp', 'data-testid': 'component', 'data-component': str(c.name) },
        el('span', { title: str(c.name) + ': weight ' + fmtPct(c.weight) + ', ' + (num(c.samples) === null ? '?' : c.samples) + ' samples' }, LABELS[c.name] || str(c.name)),
        el('div', { class: 'bar' }, el('span', { class: barClass(v), width: v + '%' })),
        el('b', null, String(Math.round(v))),
        el('div', { class: 'detail' }, str(c.detail)));
    });
    fill($('components'), comps.length ? el('div', null, comps) : el('p', { class: 'muted' }, 'Not enough data to score yet.'));

    var firing = arr(a.alerts).filter(function (x) { return !x.state || x.state === 'firing'; });
    var rank = { critical: 0, high: 1, medium: 2, low: 3 };
    firing.sort(function (x, y) { return (rank[x.severity] === undefined ? 4 : rank[x.severity]) - (rank[y.severity] === undefined ? 4 : rank[y.severity]) || (num(y.ratio) || 0) - (num(x.ratio) || 0); });
    $('alerts-n').textContent = firing.length ? '(' + firing.length + ')' : '';
    fill($('alerts'), firing.length ? el('div', null, firing.map(function (x) {
      var sev = rank[x.severity] === undefined ? 'low' : x.severity;
      return el('div', { class: 'alert', 'data-testid': 'alert', 'data-rule': str(x.rule), 'data-key': str(x.key), 'data-severity': str(x.severity) },
        el('span', { class: 'sev sev-' + sev }, str(x.severity)),
        el('span', null, str(x.message)),
        el('div', { class: 'meta' }, str(x.rule) + ' \\u00b7 since ' + fmtTime(x.firstAt) + ' \\u00b7 ratio ' + NF2.format(num(x.ratio) || 0),
          x.exemplarTraceId ? el('span', null, ' \\u00b7 trace ', el('code', { 'data-testid': 'trace-id' }, str(x.exemplarTraceId))) : null));
    })) : el('p', { class: 'muted' }, 'No alert is firing.'));

    var recs = arr(a.recommendations);
    fill($('recommendations'), recs.length ? el('ul', { 'data-testid': 'recommendations' }, recs.map(function (r) { return el('li', null, str(r)); }))
      : el('ul', { 'data-testid': 'recommendations', class: 'muted' }, el('li', null, 'Nothing to do.')));

    var routes = arr(a.routes).slice().sort(function (x, y) { return (num(y.p95Ms) || 0) - (num(x.p95Ms) || 0); });
    fill($('routes'), table(['Route', 'req/s', 'p50', 'p95', 'p99', 'errors', 'where time goes'], routes, 30, function (r) {
      var over = num(r.thresholdMs) !== null && num(r.p95Ms) !== null && r.p95Ms > r.thresholdMs;
      return el('tr', { 'data-testid': 'route', 'data-route': str(r.route) },
        el('td', null, str(r.route)), el('td', null, fmtRate(r.ratePerSecond)), el('td', null, fmtMs(r.p50Ms)),
        el('td', { class: over ? 'over' : null, 'data-testid': 'p95', title: 'threshold ' + fmtMs(r.thresholdMs) }, fmtMs(r.p95Ms)),
        el('td', null, fmtMs(r.p99Ms)), el('td', null, fmtPct(r.errorRate)), splitCell(r.split));
    }));
    var queries = arr(a.queries).slice().sort(function (x, y) { return (num(y.p95Ms) || 0) - (num(x.p95Ms) || 0); });
    fill($('queries'), table(['Query', 'per s', 'p50', 'p95', 'p99', 'errors'], queries, 30, function (q) {
      return el('tr', { 'data-testid': 'query', 'data-query': str(q.query) },
        el('td', null, str(q.query)), el('td', null, fmtRate(q.ratePerSecond)), el('td', null, fmtMs(q.p50Ms)),
        el('td', null, fmtMs(q.p95Ms)), el('td', null, fmtMs(q.p99Ms)), el('td', null, fmtPct(q.errorRate)));
    }));
    fill($('caches'), table(['Cache', 'lookups', 'hit rate'], arr(a.caches), 64, function (c) {
      var v = num(c.hitRate);
      return el('tr', { 'data-testid': 'cache', 'data-cache': str(c.name) },
        el('td', null, str(c.name)), el('td', null, num(c.lookups) === null ? '\\u2014' : NF0.format(c.lookups)),
        el('td', { 'data-testid': 'hit-rate' }, fmtPct(v)));
    }));

    seq++;
    var up = $('updated');
    var at = num(s.generatedAt) || Date.now();
    up.textContent = 'Updated ' + fmtTime(at);
    up.setAttribute('data-seq', String(seq));
    up.setAttribute('data-generated-at', str(at));
  }

  function table(head, rows, max, row) {
    if (!rows.length) return el('p', { class: 'muted' }, 'Nothing measured yet.');
    var tb = el('tbody', null, rows.slice(0, max).map(row));
    return el('div', null, el('table', null, el('thead', null, el('tr', null, head.map(function (h) { return el('th', null, h); }))), tb),
      rows.length > max ? el('p', { class: 'muted' }, 'and ' + (rows.length - max) + ' more') : null);
  }
  var PARTS = [['db', 'database'], ['http', 'outgoing HTTP'], ['cache', 'cache'], ['own', 'own code']];
  function splitCell(sp) {
    if (!sp || typeof sp !== 'object') return el('td', { class: 'split muted', title: 'no database, outgoing HTTP or cache call was seen under this route' }, 'all own code');
    var bar = el('div', { class: 'bar' }), text = [], tip = [];
    PARTS.forEach(function (p) {
      var v = Math.max(0, Math.min(1, num(sp[p[0]]) || 0));
      tip.push(p[1] + ' ' + fmtPct(v));
      if (v > 0) bar.appendChild(el('span', { class: 'sp-' + p[0], width: (v * 100).toFixed(2) + '%' }));
      if (v >= 0.01) text.push(p[0] + ' ' + fmtPct(v));
    });
    var tq = arr(sp.topQueries).map(function (q) { return str(q.summary) + ' ' + fmtPct(q.share); });
    var title = tip.join(' \\u00b7 ') + (num(sp.requests) !== null ? ' (' + sp.requests + ' requests with child operations)' : '') + (tq.length ? '; top queries: ' + tq.join(', ') : '');
    return el('td', { class: 'split', title: title, 'data-testid': 'split' }, bar, el('small', null, text.join(' \\u00b7 ')));
  }

  refresh();
})();
`;

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>healthspan</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header>
<h1><span id="service">healthspan</span> <span class="muted">status</span></h1>
<span class="muted" id="window"></span>
<span class="grow"></span>
<span class="muted" id="updated" data-testid="updated" data-seq="0">Loading\u2026</span>
</header>
<div class="banner" id="auth" data-testid="auth" role="alert" hidden>
<strong>Authorization needed.</strong> <span id="auth-msg"></span>
<form id="auth-form" autocomplete="off"><input id="token" type="password" autocomplete="off" placeholder="admin token" aria-label="admin token"><button type="submit">Use token</button></form>
</div>
<div class="banner" id="error" data-testid="error" role="alert" hidden></div>
<div class="grid">
<section>
<h2>Health</h2>
<div class="hero"><div id="score" class="score s-unknown" data-testid="score">\u2014</div>
<div><div id="status" class="status s-unknown" data-testid="status">unknown</div><div id="trend" class="muted" data-testid="trend">trend unknown</div></div></div>
<div id="components"></div>
</section>
<section><h2>Service</h2><div id="figures"></div></section>
</div>
<section><h2>Firing alerts <span id="alerts-n"></span></h2><div id="alerts" data-testid="alerts"></div></section>
<section><h2>Recommendations</h2><div id="recommendations"></div></section>
<section><h2>Slowest routes</h2>
<p class="muted legend">Time split:<span class="sp-db"></span>database<span class="sp-http"></span>outgoing HTTP<span class="sp-cache"></span>cache<span class="sp-own"></span>own code</p>
<div id="routes" data-testid="routes"></div></section>
<div class="grid">
<section><h2>Slowest queries</h2><div id="queries" data-testid="queries"></div></section>
<section><h2>Caches</h2><div id="caches" data-testid="caches"></div></section>
</div>
</main>
<script>${JS}</script>
</body>
</html>
`;

/**
 * The admin status page: a complete HTML document with inline CSS and JS that fetches
 * `summary` and `analytics?minutes=5` relative to its own URL (so it must be served at a path
 * ending in `/`), every 5 s while the tab is visible. Contains no data; safe to serve without
 * auth. Works under `default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline';
 * connect-src 'self'`.
 */
export function renderStatusPage(): string {
  return HTML;
}
