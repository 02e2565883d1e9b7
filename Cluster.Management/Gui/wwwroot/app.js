// Shoal's web GUI: plain JavaScript against the REST API under /api/v1, nothing loaded from outside (the gateway
// serves this file with a Content-Security-Policy of 'self': no inline scripts, no inline style attributes).
// Every view is redrawn from the API's documents each poll; parts whose data did not change are left alone, so a
// select or checkbox the operator is using keeps its value.
'use strict';

(() => {
  const API = '/api/v1';
  const TOKEN_KEY = 'shoal.token';
  const POLL_MS = 2000;
  const HIDDEN_POLL_MS = 10000;
  // Shard distribution changes rarely.
  const SHARDING_POLL_MS = 10000;
  // A read gives up after this long (the gateway itself answers 503 after its 20 s ask timeout). The volume list gives
  // up sooner: while the catalog entity moves after a node died, the volumes are asked for one by one instead.
  const READ_TIMEOUT_MS = 15000;
  const VOLUME_LIST_TIMEOUT_MS = 6000;
  const ACTION_TIMEOUT_MS = 60000;
  // A feed that has not answered for this long is named in the status line.
  const SLOW_FEED_MS = 5000;
  // Samples kept per volume for the sparkline: two minutes at one poll every 2 s.
  const HISTORY_SAMPLES = 60;
  // Volumes with more groups than this show their unhealthy groups and the first ones up to this many.
  const MAX_GROUPS_SHOWN = 64;
  const DELETE_CONFIRM_MS = 5000;

  const LEG_STATE_TEXT = { inSync: 'in sync', stale: 'stale', rebuilding: 'rebuilding' };

  let token = sessionStorage.getItem(TOKEN_KEY);
  let polling = false;
  // Bumped when polling stops: an answer to a request made before that is dropped.
  let generation = 0;
  let statusTimer = null;

  const data = { cluster: null, nodes: [], drives: [], volumes: [], sharding: null, volumesNote: null };
  const drivesById = new Map();
  // Stats: the previous raw counters per volume@node, and per volume the derived rates, newest last.
  const lastCounters = new Map();
  const series = new Map();
  const cards = new Map();

  const $ = (id) => document.getElementById(id);

  // ---- DOM helpers ------------------------------------------------------------------------------------------------

  /** Builds an element: el('div', {class: 'x', dataset: {testid: 'y'}}, child, 'text', ...). */
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (value === undefined || value === null || value === false) continue;
        if (key === 'class') node.className = value;
        else if (key === 'dataset') Object.assign(node.dataset, value);
        else if (key === 'text') node.textContent = value;
        else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
        else if (key in node && typeof value !== 'string') node[key] = value;
        else node.setAttribute(key, value === true ? '' : String(value));
      }
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }

  const SVG_NS = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    return node;
  }

  /** Replaces a part's children only when its key (the data it was drawn from) changed. */
  function patch(holder, key, build) {
    if (holder.dataset.key === key) return;
    holder.dataset.key = key;
    holder.replaceChildren(...[build()].flat().filter(Boolean));
  }

  function badge(text, tone, testid) {
    return el('span', { class: `badge tone-${tone}`, dataset: testid ? { testid } : undefined, text });
  }

  /** A horizontal bar: fraction 0..1 of the track filled. */
  function bar(fraction, tone, label, props) {
    const pct = Math.max(0, Math.min(100, fraction * 100));
    const fill = el('div', { class: `bar-fill tone-${tone}` });
    fill.style.width = `${pct.toFixed(1)}%`;
    return el('div', Object.assign({ class: 'bar' }, props || {}), fill, label ? el('span', { class: 'bar-text', text: label }) : null);
  }

  // ---- formatting -------------------------------------------------------------------------------------------------

  function fmtBytes(bytes) {
    if (!Number.isFinite(bytes)) return '–';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
    let value = bytes;
    let unit = 0;
    while (Math.abs(value) >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    const digits = unit === 0 || value >= 100 || Number.isInteger(value) ? 0 : 1;
    return `${value.toFixed(digits)} ${units[unit]}`;
  }

  function fmtRate(bytesPerSecond) {
    return `${(bytesPerSecond / (1024 * 1024)).toFixed(bytesPerSecond >= 100 * 1024 * 1024 ? 0 : 1)} MiB/s`;
  }

  function fmtCount(value) {
    if (value >= 100) return Math.round(value).toLocaleString('en-US');
    if (value >= 10) return value.toFixed(0);
    return value.toFixed(value === 0 ? 0 : 1);
  }

  function fmtMicros(micros) {
    if (!micros) return '–';
    if (micros >= 1e6) return `${(micros / 1e6).toFixed(2)} s`;
    if (micros >= 1000) return `${(micros / 1000).toFixed(micros >= 1e4 ? 0 : 1)} ms`;
    return `${Math.round(micros)} µs`;
  }

  function fmtDuration(seconds) {
    if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return 'unknown';
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
    return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
  }

  function fmtTime(date) {
    return date.toLocaleTimeString('en-GB', { hour12: false });
  }

  function layoutText(v) {
    switch (v.layout) {
      case 'concat': return 'concat';
      case 'stripe': return `stripe:${v.stripeWidth}`;
      case 'mirror': return `mirror:${v.legs}`;
      case 'stripe-mirror': return `stripe-mirror:${v.stripeWidth}x${v.legs}`;
      default: return v.layout;
    }
  }

  const baseName = (path) => (path || '').split('/').pop();

  function driveLabel(id) {
    const drive = drivesById.get(id);
    return drive && drive.path ? baseName(drive.path) : id.slice(0, 8);
  }

  /** A member's address without the actor system's prefix: akka.tcp://shoal@127.0.0.1:4053 → 127.0.0.1:4053. */
  const shortAddress = (address) => (address || '').replace(/^[a-z.]+:\/\/[^@]*@/, '');

  function statusTone(status) {
    switch (status) {
      case 'up': case 'online': case 'healthy': case 'ready': case 'inSync': return 'ok';
      case 'rebuilding': return 'info';
      case 'joining': case 'weaklyUp': case 'leaving': case 'exiting': case 'suspect': case 'offline': case 'degraded': case 'deleting': case 'stale': return 'warn';
      case 'down': case 'removed': case 'out': case 'failed': case 'unavailable': return 'bad';
      default: return 'muted';
    }
  }

  // ---- API --------------------------------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(problem) {
      super(problem.detail || problem.title);
      this.problem = problem;
    }
  }

  /** One API call: options.body (sent as JSON), options.token (instead of the signed-in one), options.timeoutMs. */
  async function api(method, path, options) {
    const opts = options || {};
    const body = opts.body;
    const timeoutMs = opts.timeoutMs || (method === 'GET' ? READ_TIMEOUT_MS : ACTION_TIMEOUT_MS);
    const headers = { Accept: 'application/json', Authorization: `Bearer ${opts.token ?? token ?? ''}` };
    const abort = new AbortController();
    const init = { method, headers, cache: 'no-store', signal: abort.signal };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    let response;
    let text;
    try {
      response = await fetch(API + path, init);
      text = await response.text();
    } catch (e) {
      throw new ApiError(e.name === 'AbortError'
        ? { title: 'No answer in time', status: 0, detail: `${method} ${API}${path} took longer than ${timeoutMs / 1000} s` }
        : { title: 'The gateway did not answer', status: 0, detail: `${method} ${API}${path}: ${e.message}` });
    } finally {
      clearTimeout(timer);
    }
    let doc = null;
    if (text) {
      try {
        doc = JSON.parse(text);
      } catch {
        doc = null;
      }
    }
    if (!response.ok) {
      const problem = doc && typeof doc.title === 'string'
        ? doc
        : { title: response.statusText || 'Request failed', status: response.status, detail: text.slice(0, 300) };
      problem.status = problem.status || response.status;
      throw new ApiError(problem);
    }
    return { status: response.status, body: doc };
  }

  function showProblem(problem, context) {
    $('problem-title').textContent = context ? `${context}: ${problem.title}` : problem.title;
    $('problem-status').textContent = problem.status ? `HTTP ${problem.status}` : '';
    $('problem-detail').textContent = problem.detail || '';
    $('problem').hidden = false;
  }

  function hideProblem() {
    $('problem').hidden = true;
  }

  // ---- sign in ----------------------------------------------------------------------------------------------------

  /** Shows the sign-in prompt; <keep> stays in the field (a token that failed for another reason than being wrong). */
  function askForToken(message, keep) {
    stopPolling();
    $('main').hidden = true;
    $('sign-out').hidden = true;
    $('token-dialog').hidden = false;
    $('token-error').textContent = message || '';
    $('cluster-summary').textContent = 'not signed in';
    $('cluster-summary').dataset.state = 'unknown';
    const input = $('token-input');
    input.value = keep || '';
    input.focus();
  }

  async function signIn(candidate) {
    const submit = $('token-submit');
    submit.disabled = true;
    $('token-error').textContent = '';
    try {
      await api('GET', '/cluster', { token: candidate });
      token = candidate;
      sessionStorage.setItem(TOKEN_KEY, candidate);
      $('token-dialog').hidden = true;
      $('main').hidden = false;
      $('sign-out').hidden = false;
      hideProblem();
      startPolling();
    } catch (e) {
      const p = e.problem || { title: String(e) };
      const message = p.detail ? `${p.title}: ${p.detail}` : p.title;
      if (p.status === 401) {
        token = null;
        sessionStorage.removeItem(TOKEN_KEY);
        askForToken(message);
      } else {
        askForToken(message, candidate);
      }
    } finally {
      submit.disabled = false;
    }
  }

  function signOut() {
    token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    askForToken('');
  }

  function unauthorized(problem) {
    token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    askForToken(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title);
  }

  // ---- polling ----------------------------------------------------------------------------------------------------

  // Each document has a poller of its own, so one that is slow to answer (an entity still moving to another node after
  // its node died answers once it has moved, or 503 after the gateway's ask timeout) never holds the others back.
  const FEEDS = [
    { path: '/cluster', apply: (body) => { data.cluster = body; } },
    { path: '/nodes', apply: (body) => { data.nodes = body; } },
    { path: '/drives', apply: setDrives },
    { path: '/volumes', timeoutMs: VOLUME_LIST_TIMEOUT_MS, apply: (body) => { data.volumes = body; data.volumesNote = null; }, fallback: volumesOneByOne },
    { path: '/stats', apply: (body) => ingestStats(body) },
    { path: '/cluster/sharding', everyMs: SHARDING_POLL_MS, apply: (body) => { data.sharding = body; } },
  ];

  function setDrives(drives) {
    data.drives = drives;
    drivesById.clear();
    for (const d of drives) drivesById.set(d.id, d);
  }

  function startPolling() {
    stopPolling();
    polling = true;
    for (const feed of FEEDS) {
      Object.assign(feed, { problem: null, okAt: null, since: null, again: false });
      runFeed(feed, generation);
    }
    statusTimer = setInterval(renderPollStatus, 1000);
    renderPollStatus();
  }

  function stopPolling() {
    polling = false;
    generation++;
    for (const feed of FEEDS) {
      clearTimeout(feed.timer);
      feed.timer = null;
    }
    clearInterval(statusTimer);
    statusTimer = null;
  }

  async function runFeed(feed, gen) {
    feed.timer = null;
    feed.since = Date.now();
    try {
      const r = await api('GET', feed.path, { timeoutMs: feed.timeoutMs });
      if (gen !== generation) return;
      feed.apply(r.body);
      feed.problem = null;
      feed.okAt = new Date();
    } catch (e) {
      if (gen !== generation) return;
      const p = e.problem || { title: String(e) };
      if (p.status === 401) {
        unauthorized(p);
        return;
      }
      feed.problem = p;
      if (feed.fallback) await feed.fallback(p, gen);
      if (gen !== generation) return;
    }
    feed.since = null;
    render();
    renderPollStatus();
    const delay = feed.again ? 0 : document.hidden ? HIDDEN_POLL_MS : feed.everyMs || POLL_MS;
    feed.again = false;
    feed.timer = setTimeout(() => runFeed(feed, gen), delay);
  }

  /** Refreshes now (after an action) instead of at the next tick; a feed with a request in flight goes again when it ends. */
  function refreshSoon() {
    if (!polling) return;
    const gen = generation;
    for (const feed of FEEDS) {
      if (feed.timer) {
        clearTimeout(feed.timer);
        feed.timer = setTimeout(() => runFeed(feed, gen), 0);
      } else {
        feed.again = true;
      }
    }
  }

  /** The volume list did not answer: each volume already shown is asked for by name (its own entity, not the catalog). */
  async function volumesOneByOne(problem, gen) {
    const known = data.volumes;
    if (known.length === 0) return;
    const answers = await Promise.allSettled(known.map((v) =>
      api('GET', `/volumes/${encodeURIComponent(v.name)}`, { timeoutMs: VOLUME_LIST_TIMEOUT_MS })));
    if (gen !== generation) return;
    const next = [];
    let fresh = 0;
    answers.forEach((a, i) => {
      if (a.status === 'fulfilled') {
        next.push(a.value.body);
        fresh++;
      } else if (!(a.reason.problem && a.reason.problem.status === 404)) {
        next.push(known[i]);
      }
    });
    data.volumes = next;
    data.volumesNote = `The volume list did not answer (${problem.title}): ${fresh} of ${known.length} volumes shown were asked for one by one at ${fmtTime(new Date())}.`;
  }

  function renderPollStatus() {
    if (!polling) return;
    const now = Date.now();
    const failed = FEEDS.filter((f) => f.problem);
    const slow = FEEDS.filter((f) => f.since && now - f.since > SLOW_FEED_MS);
    const answered = FEEDS.map((f) => f.okAt).filter(Boolean);
    let state;
    let text;
    let title = '';
    if (failed.length) {
      state = 'error';
      text = `${failed.map((f) => f.path).join(', ')}: ${failed[0].problem.title}`;
      title = failed.map((f) => `${f.path}: ${f.problem.title}${f.problem.detail ? ` (${f.problem.detail})` : ''}`).join('\n');
    } else if (slow.length) {
      state = 'slow';
      text = `waiting for ${slow.map((f) => `${f.path} (${Math.round((now - f.since) / 1000)} s)`).join(', ')}`;
    } else if (answered.length < FEEDS.length) {
      state = 'loading';
      text = 'loading…';
    } else {
      state = 'ok';
      text = `updated ${fmtTime(new Date(Math.max(...answered)))}`;
      title = `each view is refreshed every ${POLL_MS / 1000} s`;
    }
    const status = $('poll-status');
    if (status.textContent !== text) status.textContent = text;
    status.title = title;
    status.dataset.state = state;
  }

  // ---- stats: rates from deltas between polls ---------------------------------------------------------------------

  function ingestStats(stats) {
    const at = Date.parse(stats.at) / 1000;
    const perVolume = new Map();
    for (const s of stats.volumes) {
      const key = `${s.volume}@${s.node}`;
      const prev = lastCounters.get(key);
      lastCounters.set(key, Object.assign({ at }, s));
      let agg = perVolume.get(s.volume);
      if (!agg) {
        agg = { reads: 0, writes: 0, readBytes: 0, writeBytes: 0, readLatSum: 0, writeLatSum: 0, seconds: 0, measured: false };
        perVolume.set(s.volume, agg);
      }
      const dt = prev ? at - prev.at : 0;
      // A re-attach starts the counters again from zero: no rate across it.
      if (!prev || dt <= 0 || s.reads < prev.reads || s.writes < prev.writes) continue;
      const dr = s.reads - prev.reads;
      const dw = s.writes - prev.writes;
      agg.measured = true;
      agg.seconds = Math.max(agg.seconds, dt);
      agg.reads += dr / dt;
      agg.writes += dw / dt;
      agg.readBytes += (s.readBytes - prev.readBytes) / dt;
      agg.writeBytes += (s.writeBytes - prev.writeBytes) / dt;
      // The API gives the mean since attach; the mean over this interval is the difference of the sums.
      agg.readLatSum += dr > 0 ? Math.max(0, s.readLatencyMeanMicros * s.reads - prev.readLatencyMeanMicros * prev.reads) : 0;
      agg.writeLatSum += dw > 0 ? Math.max(0, s.writeLatencyMeanMicros * s.writes - prev.writeLatencyMeanMicros * prev.writes) : 0;
      agg.readCount = (agg.readCount || 0) + dr;
      agg.writeCount = (agg.writeCount || 0) + dw;
    }
    for (const key of [...lastCounters.keys()]) {
      if (!stats.volumes.some((s) => `${s.volume}@${s.node}` === key)) lastCounters.delete(key);
    }
    for (const name of [...series.keys()]) {
      if (!perVolume.has(name)) series.delete(name);
    }
    for (const [name, agg] of perVolume) {
      const list = series.get(name) || [];
      if (agg.measured) {
        list.push({
          at,
          readIops: agg.reads,
          writeIops: agg.writes,
          readBps: agg.readBytes,
          writeBps: agg.writeBytes,
          readLatUs: agg.readCount ? agg.readLatSum / agg.readCount : 0,
          writeLatUs: agg.writeCount ? agg.writeLatSum / agg.writeCount : 0,
        });
        while (list.length > HISTORY_SAMPLES) list.shift();
      }
      series.set(name, list);
    }
  }

  // ---- rendering --------------------------------------------------------------------------------------------------

  function render() {
    renderSummary();
    renderMembers();
    renderSharding();
    renderNodes();
    renderDrives();
    renderVolumes();
  }

  function renderSummary() {
    const members = data.cluster ? data.cluster.members : [];
    const unreachable = members.filter((m) => !m.reachable).length;
    const notUp = members.filter((m) => m.status !== 'up').length;
    const counts = {};
    for (const v of data.volumes) counts[v.health] = (counts[v.health] || 0) + 1;
    const problems = ['unavailable', 'degraded', 'rebuilding'].filter((h) => counts[h]).map((h) => `${counts[h]} ${h}`);
    const state = unreachable || counts.unavailable ? 'bad' : notUp || counts.degraded ? 'warn' : counts.rebuilding ? 'info' : 'ok';
    const summary = $('cluster-summary');
    summary.textContent = `${members.length} member${members.length === 1 ? '' : 's'}` +
      (unreachable ? `, ${unreachable} unreachable` : '') +
      ` · ${data.volumes.length} volume${data.volumes.length === 1 ? '' : 's'}` +
      (problems.length ? ` (${problems.join(', ')})` : '');
    summary.dataset.state = state;
    const leader = data.cluster && data.cluster.leader;
    const leaderMember = members.find((m) => m.address === leader);
    $('cluster-leader').textContent = data.cluster
      ? `self ${shortAddress(data.cluster.self)} · leader ${leaderMember ? leaderMember.name : leader ? shortAddress(leader) : 'none'}`
      : '';
  }

  function rolesCell(roles) {
    return el('td', { class: 'roles' }, roles.map((r) => el('span', { class: 'chip', text: r })));
  }

  function renderMembers() {
    if (!data.cluster) return;
    const leader = data.cluster.leader;
    patch($('members'), JSON.stringify(data.cluster), () => data.cluster.members.map((m) =>
      el('tr', { dataset: { testid: 'member-row', name: m.name, status: m.status, reachable: String(m.reachable) } },
        el('td', null, el('strong', { text: m.name }), m.address === leader ? el('span', { class: 'chip chip-leader', text: 'leader' }) : null,
          m.address === data.cluster.self ? el('span', { class: 'chip', text: 'this gateway' }) : null),
        el('td', { class: 'mono', text: shortAddress(m.address) }),
        el('td', null, badge(m.status, statusTone(m.status), 'member-status')),
        el('td', null, m.reachable ? badge('reachable', 'ok', 'member-reachable') : badge('unreachable', 'bad', 'member-reachable')),
        rolesCell(m.roles))));
  }

  function renderSharding() {
    if (!data.sharding) return;
    const names = new Map((data.cluster ? data.cluster.members : []).map((m) => [m.address, m.name]));
    patch($('sharding'), JSON.stringify([data.sharding, [...names]]), () => [
      el('h3', { text: 'Shards' }),
      el('div', { class: 'shard-types' }, data.sharding.types.map((t) =>
        el('div', { class: 'shard-type', dataset: { testid: 'shard-type', type: t.typeName } },
          el('span', { class: 'shard-name', text: t.typeName }),
          t.regions.length === 0 ? el('span', { class: 'muted', text: 'no regions' }) : null,
          t.regions.map((r) => el('span', { class: names.has(r.address) ? 'chip' : 'chip chip-gone', title: r.address,
            text: `${names.get(r.address) || `${shortAddress(r.address)} (not a member)`}: ${r.shards} shard${r.shards === 1 ? '' : 's'}, ${r.entities} entit${r.entities === 1 ? 'y' : 'ies'}` }))))),
    ]);
  }

  function renderNodes() {
    const members = new Set(data.nodes.map((n) => n.name));
    const gone = [...new Set(data.drives.filter((d) => d.node && !members.has(d.node) && d.status !== 'removed').map((d) => d.node))].sort();
    const goneDrives = data.drives.filter((d) => gone.includes(d.node)).map((d) => [d.node, d.status]);
    patch($('nodes'), JSON.stringify([data.nodes, goneDrives]), () => [...data.nodes.map((n) => {
      const used = n.capacityBytes - n.freeBytes;
      return el('tr', { dataset: { testid: 'node-row', node: n.name, status: n.status } },
        el('td', null, el('strong', { text: n.name }), el('div', { class: 'mono muted small', text: shortAddress(n.address) })),
        el('td', null, badge(n.status, statusTone(n.status)), ' ', n.reachable ? null : badge('unreachable', 'bad'), ' ',
          n.draining ? badge('draining', 'warn', 'node-draining') : null, ' ',
          n.maintenance ? badge('maintenance', 'warn', 'node-maintenance') : null),
        rolesCell(n.roles),
        el('td', { class: 'num', text: String(n.drives) }),
        el('td', { class: 'wide' }, n.capacityBytes > 0
          ? bar(used / n.capacityBytes, used / n.capacityBytes > 0.9 ? 'warn' : 'ok', `${fmtBytes(n.freeBytes)} free of ${fmtBytes(n.capacityBytes)}`,
            { dataset: { testid: 'node-capacity' }, title: 'free counts online drives only' })
          : el('span', { class: 'muted', text: 'no drives' })));
    }), ...gone.map((name) => {
      const drives = data.drives.filter((d) => d.node === name && d.status !== 'removed');
      return el('tr', { class: 'gone', dataset: { testid: 'node-row', node: name, status: 'gone' } },
        el('td', null, el('strong', { text: name })),
        el('td', null, badge('not a member', 'bad', 'node-gone'), ' ',
          drives.some((d) => d.maintenanceSince) ? badge('maintenance', 'warn', 'node-maintenance') : null),
        el('td', null),
        el('td', { class: 'num', text: String(drives.length) }),
        el('td', { class: 'wide muted small', text: `its drives: ${[...new Set(drives.map((d) => d.status))].join(', ')}` }));
    })]);
  }

  function renderDrives() {
    const drives = [...data.drives].sort((a, b) => (a.node + a.path).localeCompare(b.node + b.path));
    patch($('drives'), JSON.stringify(drives), () => drives.map((d) => {
      const used = d.allocatedSegments + d.releasingSegments;
      const fraction = d.segmentCount ? used / d.segmentCount : 0;
      return el('tr', { dataset: { testid: 'drive-row', drive: d.id, node: d.node, status: d.status } },
        el('td', { title: `${d.id}\n${d.path}` }, el('strong', { text: baseName(d.path) || d.id.slice(0, 8) }),
          el('div', { class: 'mono muted small', text: d.id.slice(0, 8) })),
        el('td', { text: d.node }),
        el('td', { title: `since ${new Date(d.statusSince).toLocaleString('en-GB')}` }, badge(d.status, statusTone(d.status), 'drive-status'), ' ',
          d.draining ? badge('draining', 'warn', 'drive-draining') : null, ' ',
          d.maintenanceSince ? badge('maintenance', 'warn', 'drive-maintenance') : null),
        el('td', { text: d.driveClass }),
        el('td', { class: 'small', text: `${d.rack} / ${d.zone}` }),
        el('td', { class: 'wide' }, bar(fraction, fraction > 0.9 ? 'warn' : 'ok',
          `${used} of ${d.segmentCount} segments used · ${fmtBytes(d.freeSegments * d.segmentBytes)} free` + (d.releasingSegments ? ` · ${d.releasingSegments} releasing` : ''),
          { dataset: { testid: 'drive-capacity' }, role: 'meter', 'aria-valuemin': 0, 'aria-valuemax': d.segmentCount, 'aria-valuenow': used })),
        el('td', { class: d.errorCount ? 'num bad-text' : 'num', title: d.lastError || '', text: String(d.errorCount) }));
    }));
  }

  function clientNodes() {
    return data.nodes.filter((n) => n.roles.includes('client') && n.status === 'up').map((n) => n.name).sort();
  }

  function renderVolumes() {
    const container = $('volumes');
    const volumes = [...data.volumes].sort((a, b) => a.name.localeCompare(b.name));
    const names = new Set(volumes.map((v) => v.name));
    for (const [name, card] of cards) {
      if (!names.has(name)) {
        card.root.remove();
        cards.delete(name);
      }
    }
    volumes.forEach((v, i) => {
      let card = cards.get(v.name);
      if (!card) {
        card = createCard(v.name);
        cards.set(v.name, card);
      }
      updateCard(card, v);
      if (container.children[i] !== card.root) container.insertBefore(card.root, container.children[i] || null);
    });
    $('volumes-empty').hidden = volumes.length > 0;
    const note = $('volumes-note');
    note.textContent = data.volumesNote || '';
    note.hidden = !data.volumesNote;
  }

  function createCard(name) {
    const card = { name };
    card.head = el('header', { class: 'volume-head' });
    card.diagram = el('div', { class: 'diagram', dataset: { testid: 'layout-diagram' } });
    card.io = el('div', { class: 'io', dataset: { testid: 'volume-io' } });
    card.rebuild = el('div', { class: 'rebuild-holder', dataset: { testid: 'volume-rebuild' } });
    card.attachments = el('div', { class: 'attachments', dataset: { testid: 'attachments' } });
    card.result = el('div', { class: 'form-result', role: 'status', dataset: { testid: 'volume-action-result' } });

    card.node = el('select', { class: 'attach-node', dataset: { testid: 'attach-node' }, 'aria-label': `Node to attach ${name} on` });
    card.force = el('input', { type: 'checkbox', dataset: { testid: 'force' } });
    card.attach = el('button', { type: 'button', class: 'button', dataset: { testid: 'attach' }, text: 'Attach', onclick: () => attach(card) });
    card.remove = el('button', { type: 'button', class: 'button danger subtle', dataset: { testid: 'delete' }, text: 'Delete…', onclick: () => remove(card) });
    const actions = el('div', { class: 'actions' },
      el('label', { class: 'inline' }, 'Attach on ', card.node),
      card.attach,
      el('label', { class: 'inline', title: 'attach: take the volume over from a writer on another node (it is fenced out); detach: drop a writer whose node does not answer' },
        card.force, ' force'),
      el('span', { class: 'spacer' }),
      card.remove);

    card.root = el('article', { class: 'card volume', id: `volume-${name}`, dataset: { testid: 'volume-card', volume: name } },
      card.head,
      el('div', { class: 'volume-body' }, card.diagram, card.io),
      card.rebuild,
      el('div', { class: 'volume-foot' }, card.attachments, actions, card.result));
    return card;
  }

  function updateCard(card, v) {
    card.root.dataset.health = v.health;
    card.root.dataset.epoch = String(v.epoch);
    patch(card.head, JSON.stringify([v.name, v.health, v.status, layoutText(v), v.sizeBytes, v.epoch, v.spread, v.driveClass, v.groups.length, v.segmentBytes]), () => [
      el('h3', { dataset: { testid: 'volume-name' }, text: v.name }),
      badge(v.health, statusTone(v.health), 'volume-health'),
      v.status !== 'ready' ? badge(v.status, statusTone(v.status), 'volume-status') : null,
      el('span', { class: 'facts' },
        el('span', { class: 'fact', dataset: { testid: 'volume-layout' }, title: 'layout', text: layoutText(v) }),
        el('span', { class: 'fact', dataset: { testid: 'volume-size' }, title: 'size', text: fmtBytes(v.sizeBytes) }),
        el('span', { class: 'fact', title: 'segment groups × segment size', text: `${v.groups.length} × ${fmtBytes(v.segmentBytes)}` }),
        el('span', { class: 'fact', title: 'failure domain the legs are spread over', text: `spread ${v.spread}` }),
        el('span', { class: 'fact', title: 'drive class', text: v.driveClass }),
        el('span', { class: 'fact', dataset: { testid: 'volume-epoch' }, title: 'layout epoch (raised on every layout change and writer fence)', text: `epoch ${v.epoch}` })),
    ]);
    const driveStates = v.groups.flatMap((g) => g.legs.map((l) => {
      const d = drivesById.get(l.drive);
      return d ? `${d.status}:${d.path}` : '';
    }));
    patch(card.diagram, JSON.stringify([v.groups, driveStates]), () => diagram(v));
    patch(card.rebuild, JSON.stringify(v.health === 'rebuilding' || v.rebuild ? [v.rebuild, v.health] : null), () => rebuildBar(v));
    const attachKey = JSON.stringify([v.attachments, [...lastCounters.values()].filter((s) => s.volume === v.name).map((s) => s.nbdUri)]);
    patch(card.attachments, attachKey, () => attachmentList(card, v));
    const samples = series.get(v.name);
    patch(card.io, JSON.stringify([v.attachments.length, samples ? samples.length : -1, samples && samples.length ? samples[samples.length - 1].at : 0]), () => ioPanel(v));

    const nodes = clientNodes();
    if (card.node.dataset.options !== nodes.join(',')) {
      const keep = card.node.value;
      card.node.dataset.options = nodes.join(',');
      card.node.replaceChildren(...nodes.map((n) => el('option', { value: n, text: n })));
      if (nodes.includes(keep)) card.node.value = keep;
    }
    card.attach.disabled = card.busy || nodes.length === 0 || v.status !== 'ready';
    card.remove.disabled = card.busy || v.status !== 'ready';
  }

  function diagram(v) {
    const unhealthy = (g) => g.legs.some((l) => l.state !== 'inSync');
    let groups = v.groups;
    let note = null;
    if (groups.length > MAX_GROUPS_SHOWN) {
      const bad = groups.filter(unhealthy);
      const first = groups.filter((g) => !unhealthy(g)).slice(0, Math.max(0, MAX_GROUPS_SHOWN - bad.length));
      groups = [...bad, ...first].sort((a, b) => a.index - b.index);
      note = `showing ${groups.length} of ${v.groups.length} groups (every group with a leg not in sync, then the first ones)`;
    }
    const legs = v.groups.flatMap((g) => g.legs);
    const count = (state) => legs.filter((l) => l.state === state).length;
    return [
      el('div', { class: 'diagram-head' },
        el('span', { class: 'diagram-title', text: 'Layout' }),
        el('span', { class: 'muted small', dataset: { testid: 'leg-counts' },
          text: `${legs.length} legs: ${count('inSync')} in sync, ${count('rebuilding')} rebuilding, ${count('stale')} stale` })),
      el('div', { class: 'groups' }, groups.map((g) =>
        el('div', { class: `group${unhealthy(g) ? ' group-unhealthy' : ''}`, dataset: { testid: 'group', group: String(g.index) } },
          el('div', { class: 'group-label', text: `group ${g.index}` }),
          g.legs.map((l) => legTile(v, g, l))))),
      note ? el('div', { class: 'muted small', text: note }) : null,
    ];
  }

  function legTile(v, g, l) {
    const drive = drivesById.get(l.drive);
    const driveDown = drive && drive.status !== 'online';
    const title = [`group ${g.index} leg ${l.leg}: ${LEG_STATE_TEXT[l.state] || l.state}`, `node ${l.node}`,
      `drive ${l.drive}${drive ? ` (${drive.path}, ${drive.status})` : ''}`, `segment ${l.segment}`].join('\n');
    const tile = el('div', {
      class: `leg state-${l.state}${driveDown ? ' drive-down' : ''}`, title,
      dataset: { testid: 'leg', group: String(g.index), leg: String(l.leg), state: l.state, node: l.node, drive: l.drive },
    },
    el('div', { class: 'leg-top' }, el('span', { class: 'leg-node', dataset: { testid: 'leg-node' }, text: l.node }),
      el('span', { class: 'leg-state', dataset: { testid: 'leg-state' }, text: LEG_STATE_TEXT[l.state] || l.state })),
    el('div', { class: 'leg-drive', dataset: { testid: 'leg-drive' }, text: `${driveLabel(l.drive)} · seg ${l.segment}` }),
    driveDown ? el('div', { class: 'leg-warning', dataset: { testid: 'leg-drive-status' }, text: `drive ${drive.status}` }) : null,
    l.rebuild ? bar(l.rebuild.percent / 100, 'info', `${Math.floor(l.rebuild.percent)}%`,
      { class: 'bar bar-small', dataset: { testid: 'leg-rebuild' }, role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': Math.floor(l.rebuild.percent) }) : null);
    return tile;
  }

  function rebuildBar(v) {
    const r = v.rebuild;
    if (!r && v.health !== 'rebuilding') return null;
    const percent = r ? r.percent : 0;
    const shown = Math.floor(percent);
    const details = r
      ? [`${r.kind === 'full' ? 'Rebuild' : 'Resync'}: ${fmtBytes(r.doneBytes)} of ${fmtBytes(r.totalBytes)}`,
        r.bytesPerSecond > 0 ? fmtRate(r.bytesPerSecond) : 'rate not measured yet',
        `ETA ${r.etaSeconds === null || r.etaSeconds === undefined ? 'unknown' : fmtDuration(r.etaSeconds)}`]
      : ['Rebuild starting'];
    return el('div', { class: 'rebuild', dataset: { testid: 'rebuild' } },
      el('div', { class: 'rebuild-text' },
        el('span', { dataset: { testid: 'rebuild-details' }, text: details.join(' · ') })),
      bar(percent / 100, 'info', `${shown}%`, {
        dataset: { testid: 'rebuild-progress' }, role: 'progressbar', 'aria-label': `${v.name} rebuild`,
        'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': shown,
      }));
  }

  function attachmentList(card, v) {
    if (v.attachments.length === 0) {
      return el('span', { class: 'muted', dataset: { testid: 'not-attached' }, text: 'Not attached' });
    }
    return v.attachments.map((a) => {
      const counters = lastCounters.get(`${v.name}@${a.node}`);
      return el('div', { class: 'attachment', dataset: { testid: 'attachment', node: a.node, mode: a.mode } },
        el('span', { class: 'chip chip-strong', text: a.node }),
        el('span', { class: 'small', text: a.mode === 'readWrite' ? 'read-write' : 'read-only' }),
        counters ? el('span', { class: 'mono small', dataset: { testid: 'nbd-uri' }, text: counters.nbdUri }) : null,
        el('span', { class: 'muted small', title: a.writer, text: `since ${fmtTime(new Date(a.since))}` }),
        el('button', { type: 'button', class: 'button subtle', dataset: { testid: 'detach', node: a.node }, text: 'Detach',
          onclick: (e) => detach(card, a.node, e.currentTarget) }));
    });
  }

  function ioPanel(v) {
    const list = series.get(v.name);
    if (v.attachments.length === 0 || !list) {
      return [el('div', { class: 'io-title', text: 'I/O' }), el('div', { class: 'muted small', dataset: { testid: 'io-idle' }, text: 'not attached: no I/O counters' })];
    }
    const last = list[list.length - 1];
    if (!last) {
      return [el('div', { class: 'io-title', text: 'I/O' }), el('div', { class: 'muted small', dataset: { testid: 'io-idle' }, text: 'measuring…' })];
    }
    const iops = last.readIops + last.writeIops;
    return [
      el('div', { class: 'io-title', text: 'I/O (last 2 s)' }),
      el('div', { class: 'metrics' },
        el('div', { class: 'metric' },
          el('span', { class: 'metric-value', dataset: { testid: 'iops', value: iops.toFixed(1) }, text: fmtCount(iops) }),
          el('span', { class: 'metric-label', text: `IOPS · r ${fmtCount(last.readIops)} / w ${fmtCount(last.writeIops)}` })),
        el('div', { class: 'metric' },
          el('span', { class: 'metric-value', dataset: { testid: 'latency' }, text: `${fmtMicros(last.readLatUs)} / ${fmtMicros(last.writeLatUs)}` }),
          el('span', { class: 'metric-label', text: 'mean latency r / w' })),
        el('div', { class: 'metric' },
          el('span', { class: 'metric-value', dataset: { testid: 'throughput' }, text: fmtRate(last.readBps + last.writeBps) }),
          el('span', { class: 'metric-label', text: 'throughput' }))),
      sparkline(list),
    ];
  }

  function sparkline(list) {
    const width = 240;
    const height = 40;
    const values = list.map((s) => s.readIops + s.writeIops);
    const max = Math.max(1, ...values);
    const step = width / (HISTORY_SAMPLES - 1);
    const x0 = width - (values.length - 1) * step;
    const points = values.map((value, i) => `${(x0 + i * step).toFixed(1)},${(height - 2 - (value / max) * (height - 4)).toFixed(1)}`);
    const chart = svg('svg', { class: 'spark', viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', role: 'img',
      'aria-label': `IOPS over the last ${Math.round(list.length * POLL_MS / 1000)} s, peak ${Math.round(max)}`, 'data-testid': 'sparkline', 'data-points': values.length });
    const title = svg('title');
    title.textContent = `IOPS, last ${list.length} samples; peak ${fmtCount(max)}`;
    chart.append(title);
    if (points.length > 1) {
      chart.append(svg('polygon', { class: 'spark-area', points: `${points[0].split(',')[0]},${height} ${points.join(' ')} ${width},${height}` }));
      chart.append(svg('polyline', { class: 'spark-line', points: points.join(' ') }));
    }
    return el('div', { class: 'spark-holder' }, chart, el('span', { class: 'muted small', text: `peak ${fmtCount(max)} IOPS` }));
  }

  // ---- actions ----------------------------------------------------------------------------------------------------

  async function runAction(card, what, action) {
    card.busy = true;
    card.attach.disabled = true;
    card.remove.disabled = true;
    card.result.textContent = `${what}…`;
    card.result.dataset.state = 'busy';
    try {
      const message = await action();
      card.result.textContent = message;
      card.result.dataset.state = 'ok';
      hideProblem();
    } catch (e) {
      const p = e.problem || { title: String(e) };
      if (p.status === 401) {
        unauthorized(p);
        return;
      }
      card.result.textContent = `${what} failed: ${p.detail || p.title}`;
      card.result.dataset.state = 'error';
      showProblem(p, `${what} ${card.name}`);
    } finally {
      card.busy = false;
      refreshSoon();
    }
  }

  function attach(card) {
    const node = card.node.value;
    const force = card.force.checked;
    runAction(card, 'Attach', async () => {
      const r = await api('POST', `/volumes/${encodeURIComponent(card.name)}/attach`, { body: { node, force } });
      return `Attached on ${r.body.node} at epoch ${r.body.epoch}: ${r.body.nbdUri}`;
    });
  }

  function detach(card, node, button) {
    const force = card.force.checked;
    if (button) button.disabled = true;
    runAction(card, 'Detach', async () => {
      await api('POST', `/volumes/${encodeURIComponent(card.name)}/detach`, { body: { node, force } });
      return `Detached from ${node}`;
    });
  }

  function remove(card) {
    if (!card.confirmDelete) {
      card.confirmDelete = true;
      card.remove.textContent = `Confirm delete of ${card.name}`;
      card.remove.classList.remove('subtle');
      setTimeout(() => {
        card.confirmDelete = false;
        card.remove.textContent = 'Delete…';
        card.remove.classList.add('subtle');
      }, DELETE_CONFIRM_MS);
      return;
    }
    card.confirmDelete = false;
    card.remove.textContent = 'Delete…';
    card.remove.classList.add('subtle');
    runAction(card, 'Delete', async () => {
      await api('DELETE', `/volumes/${encodeURIComponent(card.name)}`);
      return `Deleting ${card.name}: its segments are freed once their targets confirm`;
    });
  }

  function syncCreateForm() {
    const layout = $('create-layout').value;
    $('create-legs').disabled = !(layout === 'mirror' || layout === 'stripe-mirror');
    $('create-width').disabled = !(layout === 'stripe' || layout === 'stripe-mirror');
  }

  async function createVolume(event) {
    event.preventDefault();
    const result = $('create-result');
    const layout = $('create-layout').value;
    const size = Number($('create-size').value);
    const unit = Number($('create-unit').value);
    const request = { name: $('create-name').value.trim(), layout, sizeBytes: Math.round(size * unit) };
    if (!Number.isFinite(size) || size <= 0) {
      result.textContent = 'Size must be a positive number.';
      result.dataset.state = 'error';
      return;
    }
    if (!$('create-legs').disabled) request.legs = Number($('create-legs').value);
    if (!$('create-width').disabled) request.stripeWidth = Number($('create-width').value);
    if ($('create-spread').value) request.spread = $('create-spread').value;
    if ($('create-class').value.trim()) request.driveClass = $('create-class').value.trim();
    const submit = $('create-submit');
    submit.disabled = true;
    result.textContent = `Creating ${request.name}…`;
    result.dataset.state = 'busy';
    try {
      const r = await api('POST', '/volumes', { body: request });
      const v = r.body;
      result.textContent = r.status === 201
        ? `Created ${v.name}: ${layoutText(v)}, ${fmtBytes(v.sizeBytes)}, ${v.groups.length} group${v.groups.length === 1 ? '' : 's'}`
        : `${v.name} already exists with this spec`;
      result.dataset.state = 'ok';
      hideProblem();
      refreshSoon();
    } catch (e) {
      const p = e.problem || { title: String(e) };
      if (p.status === 401) {
        unauthorized(p);
        return;
      }
      result.textContent = `Not created: ${p.detail || p.title}`;
      result.dataset.state = 'error';
      showProblem(p, `Create ${request.name || 'volume'}`);
    } finally {
      submit.disabled = false;
    }
  }

  // ---- start ------------------------------------------------------------------------------------------------------

  function start() {
    $('token-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const candidate = $('token-input').value.trim();
      if (!candidate) {
        $('token-error').textContent = 'Enter a token.';
        return;
      }
      signIn(candidate);
    });
    $('sign-out').addEventListener('click', signOut);
    $('problem-close').addEventListener('click', hideProblem);
    $('create-layout').addEventListener('change', syncCreateForm);
    $('create-form').addEventListener('submit', createVolume);
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) refreshSoon();
    });
    syncCreateForm();
    if (token) {
      signIn(token);
    } else {
      askForToken('');
    }
  }

  start();
})();
