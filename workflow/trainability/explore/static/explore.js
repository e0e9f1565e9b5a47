// The explorer's page: a map of the condition's trainability grid, drawn from the tiles of its
// pyramid (trainability/explore/pyramid.py). The address names the view (condition, exact
// decimal window, steps, mode); every tile ever received is kept, so a pan or a zoom draws at
// once what is known (coarser tiles scaled under finer ones) and asks only for the tiles it
// lacks, nearest the view's centre first. No library; see trainability/explore.
'use strict';

const $ = (id) => document.getElementById(id);
const DIGITS = 110; // fractional decimal digits of the fixed-point window coordinates
const ONE = 10n ** BigInt(DIGITS);
const MAX_INFLIGHT = 4; // tile requests open at once (the server computes one at a time)
const MAX_TILES = 1500; // tiles kept in the page (least recently drawn go first)

const state = {
  study: null, // {tile, detail, colours, buffer}
  current: null, // {info, view: [x0, x1, y0, y1] fixed-point, root: fixed-point}
  pending: null, // a window being scrolled or dragged to, not yet validated (fixed-point)
  tiles: new Map(), // key → {z, i, j, values, converged, computed, divergedAt, image, ...}
  inflight: new Map(), // key → AbortController
  queue: [], // [z, i, j] still wanted by the current view, in request order
  controller: null, // aborts the /api/view request of a view that was left
  generation: 0,
  reference: null, // the rank-stretch reference: {negative, nonnegative} sorted
  referenceKey: '',
  wheelTimer: null,
  drag: null,
  drawQueued: false,
};

// ------------------------------------------------------------------ exact coordinates
// A window coordinate is a BigInt c standing for c / 10^DIGITS (exact for every decimal the
// server sends back; tile edges are the root's plus dyadic fractions of its width).
function parseDec(text) {
  let s = String(text).trim().toLowerCase();
  let exponent = 0;
  const e = s.indexOf('e');
  if (e >= 0) {
    exponent = parseInt(s.slice(e + 1), 10);
    s = s.slice(0, e);
  }
  const negative = s.startsWith('-');
  s = s.replace(/^[-+]/, '');
  let [whole, frac = ''] = s.split('.');
  let shift = DIGITS + exponent - frac.length;
  let digits = BigInt((whole || '0') + frac);
  if (shift >= 0) digits *= 10n ** BigInt(shift);
  else digits /= 10n ** BigInt(-shift);
  return negative ? -digits : digits;
}

function formatDec(c, keep) {
  // c rounded to `keep` fractional digits, as plain decimal text without trailing zeros
  const unit = 10n ** BigInt(DIGITS - keep);
  let q = (c >= 0n ? c + unit / 2n : c - unit / 2n) / unit;
  const negative = q < 0n;
  if (negative) q = -q;
  let s = q.toString().padStart(keep + 1, '0');
  let whole = s.slice(0, s.length - keep);
  let frac = s.slice(s.length - keep).replace(/0+$/, '');
  const out = frac ? `${whole}.${frac}` : whole;
  return negative && out !== '0' ? `-${out}` : out;
}

function scaled(c, f) {
  // c·f for a double f, to ~16 digits of f
  const m = BigInt(Math.round(f * 2 ** 52));
  return (c * m) / 2n ** 52n;
}

function ratio(a, b) {
  return Number(a) / Number(b);
}

function keepDigits(width) {
  // digits that place a bound to ~1e-15 of the view's width
  const w = Math.abs(Number(width) / Number(ONE));
  return Math.min(DIGITS, Math.max(16, 16 + Math.ceil(-Math.log10(w || 1e-300))));
}

function windowText(w) {
  const kx = keepDigits(w[1] - w[0]);
  const ky = keepDigits(w[3] - w[2]);
  return [formatDec(w[0], kx), formatDec(w[1], kx), formatDec(w[2], ky), formatDec(w[3], ky)];
}

function frame() {
  return state.pending || (state.current && state.current.view);
}

function fraction(event) {
  const r = $('stage').getBoundingClientRect();
  return [(event.clientX - r.left) / r.width, (event.clientY - r.top) / r.height];
}

// the point at fractions (u from the left, v from the top) of window w, fixed-point
function at(w, u, v) {
  return [w[0] + scaled(w[1] - w[0], u), w[3] - scaled(w[3] - w[2], v)];
}

function query(view) {
  const mode = view.mode && view.mode !== 'full' ? `&mode=${view.mode}` : '';
  return `condition=${encodeURIComponent(view.condition)}&window=${view.window.join(',')}` +
    `&steps=${view.steps}${mode}`;
}

function currentView(changes) {
  const info = state.current.info;
  return Object.assign(
    {condition: info.condition, window: info.window, steps: info.steps, mode: info.mode},
    changes,
  );
}

// ------------------------------------------------------------------ tiles
function tileKey(info, z, i, j) {
  return `${info.condition}|${info.steps}|${info.mode}|${z}|${i}|${j}`;
}

function extent(root, z, i, j) {
  // the cells tile (z, i, j) covers: [x0, x1, y0, y1] fixed-point (pyramid.py)
  // i, j: integers or their decimal text (past 2^53 the server sends text)
  const side = 2n ** BigInt(z);
  const w = root[1] - root[0];
  const h = root[3] - root[2];
  const I = BigInt(i);
  const J = BigInt(j);
  return [
    root[0] + (w * I) / side, root[0] + (w * (I + 1n)) / side,
    root[2] + (h * J) / side, root[2] + (h * (J + 1n)) / side,
  ];
}

function decodeTile(buffer, header) {
  const n = header.n;
  const m = n * n;
  return {
    n,
    values: new Float64Array(buffer, 0, m),
    divergedAt: new Int32Array(buffer, 8 * m, m),
    converged: new Uint8Array(buffer, 12 * m, m),
    computed: new Uint8Array(buffer, 13 * m, m),
  };
}

function request(info, z, i, j, rank) {
  const key = tileKey(info, z, i, j);
  const controller = new AbortController();
  state.inflight.set(key, controller);
  const mode = info.mode !== 'full' ? `&mode=${info.mode}` : '';
  const url = `/api/tile?condition=${encodeURIComponent(info.condition)}&steps=${info.steps}` +
    `${mode}&z=${z}&x=${i}&y=${j}&rank=${rank}`;
  fetch(url, {signal: controller.signal})
    .then(async (response) => {
      const header = JSON.parse(response.headers.get('X-Tile') || '{}');
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        throw new Error(body.error || `the server answered ${response.status}`);
      }
      const buffer = await response.arrayBuffer();
      const tile = header.empty ? {empty: header.empty} : decodeTile(buffer, header);
      Object.assign(tile, {z, i, j, key, header, used: performance.now(), image: null});
      state.tiles.set(key, tile);
      forget();
    })
    .catch((err) => {
      if (err.name === 'AbortError') return;
      state.tiles.set(key, {z, i, j, key, error: err.message, used: performance.now()});
      showError(err.message);
    })
    .finally(() => {
      if (state.inflight.get(key) === controller) state.inflight.delete(key);
      pump();
      scheduleDraw();
    });
}

// ask for the wanted tiles, a few at a time, in order
function pump() {
  if (!state.current) return;
  const info = state.current.info;
  while (state.inflight.size < MAX_INFLIGHT && state.queue.length) {
    const [z, i, j, rank] = state.queue.shift();
    const key = tileKey(info, z, i, j);
    if (state.tiles.has(key) || state.inflight.has(key)) continue;
    request(info, z, i, j, rank);
  }
  updateStatus();
}

// the tiles of a newly shown view: cancel what it does not want, queue what it lacks
function want(info) {
  const wanted = [];
  const fine = info.levels.fine;
  const coarse = info.levels.coarse;
  const root = state.current.root;
  const centre = at(state.current.view, 0.5, 0.5);
  // the coarse level only when nothing close to the finest level covers the centre yet
  let covered = false;
  for (const tile of state.tiles.values()) {
    if (!tile.values || !sameView(tile.key, info) || tile.z < fine - 3) continue;
    const e = extent(root, tile.z, tile.i, tile.j);
    if (e[0] <= centre[0] && centre[0] <= e[1] && e[2] <= centre[1] && centre[1] <= e[3]) {
      covered = true;
      break;
    }
  }
  // the centre's finest tile first, then (if needed) the coarse level, then the rest
  const [first, ...rest] = info.tiles.fine;
  if (first) wanted.push([fine, ...first]);
  if (!covered && coarse < fine) for (const [i, j] of info.tiles.coarse) wanted.push([coarse, i, j]);
  for (const [i, j] of rest) wanted.push([fine, i, j]);
  const keys = new Set(wanted.map(([z, i, j]) => tileKey(info, z, i, j)));
  for (const [key, controller] of state.inflight) {
    if (!keys.has(key)) {
      controller.abort(); // the server withdraws the request; the last one out stops the tile
      state.inflight.delete(key);
    }
  }
  // each tile's rank in this view: the server computes queued tiles lowest rank first
  state.queue = wanted.map((t, rank) => [...t, rank])
    .filter(([z, i, j]) => !state.tiles.has(tileKey(info, z, i, j)));
  pump();
}

function sameView(key, info) {
  return key.startsWith(`${info.condition}|${info.steps}|${info.mode}|`);
}

function forget() {
  if (state.tiles.size <= MAX_TILES) return;
  const order = [...state.tiles.values()].sort((a, b) => a.used - b.used);
  for (const tile of order.slice(0, state.tiles.size - MAX_TILES)) state.tiles.delete(tile.key);
}

// ------------------------------------------------------------------ colours
// the figures' rank stretch (trainability.figures.heatmap.rank_stretch), over the values of the
// finest tiles in view: one reference for every tile drawn, so tiles meet without a seam
function visibleTiles(w) {
  const info = state.current.info;
  const root = state.current.root;
  const out = [];
  for (const tile of state.tiles.values()) {
    if (!tile.values || !sameView(tile.key, info)) continue;
    const e = extent(root, tile.z, tile.i, tile.j);
    if (e[1] <= w[0] || e[0] >= w[1] || e[3] <= w[2] || e[2] >= w[3]) continue;
    out.push([tile, e]);
  }
  return out.sort((a, b) => a[0].z - b[0].z);
}

function updateReference(shown) {
  if (!shown.length) return;
  const top = shown[shown.length - 1][0].z;
  const finest = shown.filter(([t]) => t.z === top).map(([t]) => t);
  const key = finest.map((t) => t.key).sort().join(';');
  if (key === state.referenceKey) return;
  const negative = [];
  const nonnegative = [];
  for (const t of finest) {
    for (const v of t.values) {
      if (Number.isFinite(v)) (v < 0 ? negative : nonnegative).push(v);
    }
  }
  negative.sort((a, b) => a - b);
  nonnegative.sort((a, b) => a - b);
  state.reference = {negative, nonnegative};
  state.referenceKey = key;
  for (const tile of state.tiles.values()) tile.image = null; // recolour
}

function position(v, ref) {
  const m = ref.length;
  if (m <= 1) return 0.5;
  let lo = 0;
  let hi = m;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (ref[mid] < v) lo = mid + 1; else hi = mid; }
  let right = lo;
  while (right < m && ref[right] === v) right++;
  const rank = (lo + right - 1) / 2;
  return Math.min(1, Math.max(0, rank / (m - 1)));
}

function paint(tile) {
  const n = tile.n;
  const image = document.createElement('canvas');
  image.width = n;
  image.height = n;
  const ctx = image.getContext('2d');
  const data = ctx.createImageData(n, n);
  const colours = state.study.rgb;
  const b = state.study.buffer;
  const ref = state.reference;
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; col++) {
      const k = row * n + col;
      const v = tile.values[k];
      let s;
      if (Number.isNaN(v)) s = tile.converged[k] ? 0.625 : -0.625; // label-only: inferred
      else if (v < 0) s = 1 - (1 - b) * position(v, ref.negative);
      else s = -b - (1 - b) * position(v, ref.nonnegative);
      const c = colours[Math.min(255, Math.max(0, Math.floor(((s + 1) / 2) * 256)))];
      const o = ((n - 1 - row) * n + col) * 4; // top row first
      data.data[o] = c[0];
      data.data[o + 1] = c[1];
      data.data[o + 2] = c[2];
      data.data[o + 3] = 255;
    }
  }
  ctx.putImageData(data, 0, 0);
  tile.image = image;
}

// ------------------------------------------------------------------ drawing
function scheduleDraw() {
  if (state.drawQueued) return;
  state.drawQueued = true;
  requestAnimationFrame(() => {
    state.drawQueued = false;
    redraw();
  });
}

function redraw() {
  const canvas = $('picture');
  const dpr = window.devicePixelRatio || 1;
  const width = Math.round(canvas.clientWidth * dpr);
  const height = Math.round(canvas.clientHeight * dpr);
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#c8c8cc';
  ctx.fillRect(0, 0, width, height);
  const w = frame();
  if (!w || !state.current) return;
  const shown = visibleTiles(w);
  updateReference(shown);
  const dx = w[1] - w[0];
  const dy = w[3] - w[2];
  ctx.imageSmoothingEnabled = false;
  const now = performance.now();
  for (const [tile, e] of shown) {
    if (!tile.image) paint(tile);
    tile.used = now;
    const left = ratio(e[0] - w[0], dx) * width;
    const right = ratio(e[1] - w[0], dx) * width;
    const top = (1 - ratio(e[3] - w[2], dy)) * height;
    const bottom = (1 - ratio(e[2] - w[2], dy)) * height;
    // whole device pixels, edges shared: neighbouring tiles leave no hairline between them
    const l = Math.round(left);
    const t = Math.round(top);
    ctx.drawImage(tile.image, l, t, Math.round(right) - l, Math.round(bottom) - t);
  }
  updateStatus();
}

function updateStatus() {
  if (!state.current) return;
  const info = state.current.info;
  const fine = info.levels.fine;
  const total = info.tiles.fine.length;
  let done = 0;
  const arithmetics = new Set();
  for (const [i, j] of info.tiles.fine) {
    const tile = state.tiles.get(tileKey(info, fine, i, j));
    if (tile && (tile.values || tile.empty || tile.error)) done++;
    if (tile && tile.header && tile.header.arithmetic) arithmetics.add(tile.header.arithmetic);
  }
  const final = done === total;
  document.body.dataset.final = String(final);
  document.body.dataset.done = String(done);
  $('status').textContent = final
    ? `${total} tiles of level ${fine} (${info.tile}² each), all drawn`
    : `${done} of ${total} tiles of level ${fine} drawn; computing…`;
  $('arithmetic').textContent = arithmetics.size ? [...arithmetics].join(', ')
    : info.arithmetic || '–';
  $('arithmetic').className = [...arithmetics].some((a) => a.startsWith('float64x2')) ? 'deep' : '';
  const centre = info.tiles.fine[0];
  const tile = centre && state.tiles.get(tileKey(info, fine, centre[0], centre[1]));
  document.body.dataset.centre = String(Boolean(tile && (tile.values || tile.empty)));
  const link = $('download-npz');
  if (tile && tile.values) {
    const mode = info.mode !== 'full' ? `&mode=${info.mode}` : '';
    link.href = `/api/tile.npz?condition=${encodeURIComponent(info.condition)}` +
      `&steps=${info.steps}${mode}&z=${fine}&x=${centre[0]}&y=${centre[1]}`;
    link.classList.remove('disabled');
  } else {
    link.removeAttribute('href');
    link.classList.add('disabled');
  }
}

// ------------------------------------------------------------------ the page's text
function showError(message) {
  $('error').textContent = message;
  $('error').hidden = false;
}

function clearError() {
  $('error').hidden = true;
  $('error').textContent = '';
}

function setTicks(id, labels, vertical) {
  const box = $(id);
  box.replaceChildren();
  labels.forEach((label, k) => {
    const span = document.createElement('span');
    span.textContent = label;
    const pos = (100 * k) / (labels.length - 1);
    if (vertical) span.style.top = `${100 - pos}%`;
    else span.style.left = `${pos}%`;
    box.appendChild(span);
  });
}

function describe(info) {
  const x = info.axes.x;
  const y = info.axes.y;
  setTicks('x-ticks', x.ticks, false);
  setTicks('y-ticks', y.ticks, true);
  $('x-title').textContent = x.title;
  $('y-title').textContent = y.title;
  $('read-x-name').textContent = x.name;
  $('read-y-name').textContent = y.name;
  $('depth').textContent = `${info.depth.toFixed(2)} decades below the start window`;
  $('level').textContent = `${info.levels.fine} (coarse ${info.levels.coarse})`;
  $('condition').value = info.condition;
  $('steps').value = info.steps;
  $('labels').checked = info.mode === 'labels';
  $('mode-note').hidden = info.mode !== 'labels';
  document.body.dataset.mode = info.mode;
  const target = info.zoom;
  $('target-text').textContent = target.text || target.reason;
  $('copy').hidden = !target.text;
  $('copied').textContent = '';
}

function readout(event) {
  if (!state.current) return;
  const w = frame();
  const [u, v] = fraction(event);
  const [x, y] = at(w, u, v);
  const axes = state.current.info.axes;
  const show = (c, axis) => {
    const digits = Math.min(40, axis.digits + 1);
    const units = formatDec(c, Math.min(DIGITS, digits + 20));
    if (axis.scale !== 'log') return Number(units).toPrecision(Math.min(17, digits));
    return digits <= 16 ? Math.pow(10, Number(units)).toPrecision(digits).replace(/e\+?/, 'e')
      : `10^${units.slice(0, digits + 4)}`;
  };
  $('read-x').textContent = show(x, axes.x);
  $('read-y').textContent = show(y, axes.y);
  let value = '–';
  let label = '–';
  let arithmetic = '–';
  const shown = visibleTiles(w).reverse(); // finest first
  for (const [tile, e] of shown) {
    if (x < e[0] || x > e[1] || y < e[2] || y > e[3]) continue;
    const n = tile.n;
    const col = Math.min(n - 1, Math.floor(ratio(x - e[0], e[1] - e[0]) * n));
    const row = Math.min(n - 1, Math.floor(ratio(y - e[2], e[3] - e[2]) * n));
    const k = row * n + col;
    const val = tile.values[k];
    value = Number.isNaN(val) ? 'not computed (label inferred)' : val.toPrecision(6);
    const step = tile.divergedAt[k];
    label = tile.converged[k] ? 'converged' : step >= 0 ? `diverged (retired at step ${step})` : 'diverged';
    arithmetic = `${tile.header.arithmetic}, level ${tile.z}`;
    break;
  }
  $('read-value').textContent = value;
  $('read-label').textContent = label;
  $('read-arithmetic').textContent = arithmetic;
}

// ------------------------------------------------------------------ views
// how: 'push' (a new history entry), 'replace' (first load) or 'none' (the browser's back)
async function go(search, how) {
  const generation = ++state.generation;
  if (state.controller) state.controller.abort();
  const controller = new AbortController();
  state.controller = controller;
  let info;
  try {
    const response = await fetch(`/api/view?${search}`, {signal: controller.signal});
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || `the server answered ${response.status}`);
    info = body;
  } catch (err) {
    if (err.name === 'AbortError') return;
    showError(err.message);
    state.pending = null;
    scheduleDraw();
    return;
  }
  if (generation !== state.generation) return;
  clearError();
  const address = `?${info.query}`;
  if (how === 'push' && address !== location.search) history.pushState(null, '', address);
  else if (how !== 'push') history.replaceState(null, '', address);
  state.current = {info, view: info.window.map(parseDec), root: info.root.map(parseDec)};
  state.pending = null;
  state.referenceKey = '';
  document.body.dataset.view = info.query;
  document.body.dataset.level = String(info.levels.fine);
  describe(info);
  redraw(); // what is known already: coarser (parent) tiles, scaled
  document.body.dataset.firstDrawn = visibleTiles(state.current.view).map(([t]) => t.z).join(',');
  want(info);
}

function navigate(changes) {
  go(query(currentView(changes)), 'push');
}

// the window after zooming by f about the point at fractions (u, v) of w; when widening, the
// axes' allowed intervals are kept (an open upper bound is not passed)
function zoomed(w, f, u, v) {
  const dx = w[1] - w[0];
  const dy = w[3] - w[2];
  const out = [
    w[0] + scaled(dx, u * (1 - f)), w[0] + scaled(dx, u + (1 - u) * f),
    w[2] + scaled(dy, (1 - v) * (1 - f)), w[2] + scaled(dy, 1 - v + v * f),
  ];
  if (f <= 1 || !state.current) return out;
  const axes = state.current.info.axes;
  [[axes.x, 0], [axes.y, 2]].forEach(([axis, k]) => {
    const toUnits = (value) => {
      const units = axis.scale === 'log' ? Math.log10(value) : value;
      return Number.isFinite(units) ? parseDec(String(units)) : null;
    };
    const low = axis.low === null ? null : toUnits(axis.low);
    if (low !== null && out[k] < low) out[k] = low > w[k] ? w[k] : low;
    const high = axis.high === null ? null : toUnits(axis.high);
    if (high !== null) {
      if (out[k + 1] > high || (axis.high_open && out[k + 1] >= high)) {
        out[k + 1] = axis.high_open ? w[k + 1] : high;
      }
    }
  });
  return out;
}

// ------------------------------------------------------------------ interaction
function onWheel(event) {
  event.preventDefault();
  if (!state.current) return;
  const w = frame();
  const [u, v] = fraction(event);
  const f = Math.exp(event.deltaY * (event.deltaMode === 1 ? 0.05 : 0.002));
  state.pending = zoomed(w, f, u, v);
  scheduleDraw();
  clearTimeout(state.wheelTimer);
  state.wheelTimer = setTimeout(() => {
    const target = state.pending;
    if (target) go(query(currentView({window: windowText(target)})), 'push');
  }, 150);
}

function onPointerDown(event) {
  if (event.button !== 0 || !state.current) return;
  state.drag = {start: fraction(event), pan: event.shiftKey, from: frame()};
  $('stage').setPointerCapture(event.pointerId);
}

function onPointerMove(event) {
  readout(event);
  if (!state.drag) return;
  const [u0, v0] = state.drag.start;
  const [u1, v1] = fraction(event);
  if (state.drag.pan) {
    const w = state.drag.from;
    const dx = scaled(w[1] - w[0], u1 - u0);
    const dy = scaled(w[3] - w[2], v1 - v0);
    state.pending = [w[0] - dx, w[1] - dx, w[2] + dy, w[3] + dy];
    scheduleDraw();
    return;
  }
  const box = $('box');
  box.hidden = false;
  box.style.left = `${100 * Math.min(u0, u1)}%`;
  box.style.top = `${100 * Math.min(v0, v1)}%`;
  box.style.width = `${100 * Math.abs(u1 - u0)}%`;
  box.style.height = `${100 * Math.abs(v1 - v0)}%`;
}

function onPointerUp(event) {
  if (!state.drag) return;
  const [u0, v0] = state.drag.start;
  const [u1, v1] = fraction(event);
  const pan = state.drag.pan;
  state.drag = null;
  $('box').hidden = true;
  const r = $('stage').getBoundingClientRect();
  if (Math.abs(u1 - u0) * r.width < 4 && Math.abs(v1 - v0) * r.height < 4) {
    state.pending = null; // a click
    scheduleDraw();
    return;
  }
  if (pan) {
    go(query(currentView({window: windowText(state.pending)})), 'push');
    return;
  }
  if (Math.abs(u1 - u0) * r.width < 4 || Math.abs(v1 - v0) * r.height < 4) return;
  const w = frame();
  const [x0, y1] = at(w, Math.min(u0, u1), Math.min(v0, v1));
  const [x1, y0] = at(w, Math.max(u0, u1), Math.max(v0, v1));
  state.pending = [x0, x1, y0, y1];
  scheduleDraw();
  go(query(currentView({window: windowText(state.pending)})), 'push');
}

function panBy(du, dv) {
  // move the view by fractions of its size (arrow keys: a quarter; the benchmark: a half)
  if (!state.current) return;
  const w = state.current.view;
  const dx = scaled(w[1] - w[0], du);
  const dy = scaled(w[3] - w[2], dv);
  navigate({window: windowText([w[0] + dx, w[1] + dx, w[2] + dy, w[3] + dy])});
}

function zoomOut() {
  if (!state.current) return;
  navigate({window: windowText(zoomed(state.current.view, 2, 0.5, 0.5))});
}

async function copyTarget() {
  const text = $('target-text').textContent;
  try {
    await navigator.clipboard.writeText(text);
    $('copied').textContent = 'copied';
  } catch (err) {
    const range = document.createRange();
    range.selectNodeContents($('target-text'));
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    $('copied').textContent = 'selected: press Ctrl-C to copy';
  }
}

function onKey(event) {
  if (event.target.tagName === 'INPUT' || event.target.tagName === 'SELECT') return;
  const moves = {ArrowLeft: [-0.25, 0], ArrowRight: [0.25, 0], ArrowUp: [0, 0.25], ArrowDown: [0, -0.25]};
  if (moves[event.key]) {
    event.preventDefault();
    panBy(...moves[event.key]);
  }
}

async function start() {
  const stage = $('stage');
  stage.addEventListener('wheel', onWheel, {passive: false});
  stage.addEventListener('pointerdown', onPointerDown);
  stage.addEventListener('pointermove', onPointerMove);
  stage.addEventListener('pointerup', onPointerUp);
  stage.addEventListener('pointercancel', () => { state.drag = null; $('box').hidden = true; });
  document.addEventListener('keydown', onKey);
  $('zoom-out').addEventListener('click', zoomOut);
  $('back').addEventListener('click', () => history.back());
  $('reset').addEventListener('click', () => {
    go(`condition=${encodeURIComponent($('condition').value)}`, 'push');
  });
  $('condition').addEventListener('change', (e) => go(`condition=${encodeURIComponent(e.target.value)}`, 'push'));
  $('steps').addEventListener('change', (e) => {
    if (state.current) navigate({steps: e.target.value});
  });
  $('labels').addEventListener('change', (e) => {
    if (state.current) navigate({mode: e.target.checked ? 'labels' : 'full'});
  });
  $('use-target').addEventListener('click', () => {
    $('target').hidden = false;
    copyTarget();
  });
  $('copy').addEventListener('click', copyTarget);
  window.addEventListener('popstate', () => go(location.search.slice(1), 'none'));
  window.addEventListener('resize', scheduleDraw);
  try {
    const response = await fetch('/api/study');
    const study = await response.json();
    study.rgb = study.colours.map((h) => [1, 3, 5].map((k) => parseInt(h.slice(k, k + 2), 16)));
    state.study = study;
    for (const c of study.conditions) {
      const option = document.createElement('option');
      option.value = c.name;
      option.textContent = c.name;
      option.title = c.title;
      $('condition').appendChild(option);
    }
    $('condition').value = study.default;
  } catch (err) {
    showError(`the explorer's server did not answer: ${err.message}`);
    return;
  }
  go(location.search.slice(1), 'replace');
}

start();
