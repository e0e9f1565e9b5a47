// The explorer's page: one view at a time (condition, window, steps; the address names it),
// drawn from the server's grids, coarse pass first. No library; see trainability/explore.
'use strict';

const $ = (id) => document.getElementById(id);

const state = {
  current: null, // the validated view: {info, shown}
  pending: null, // a window being scrolled to, not yet validated: [x0, x1, y0, y1]
  shown: null, // the last picture: {bounds, nx, ny, values, divergedAt, converged, image}
  controller: null, // aborts the requests of a view that was left
  generation: 0,
  wheelTimer: null,
  drag: null,
};

// ------------------------------------------------------------------ coordinates
// u, v: fractions of the stage from its left and top edges; window [x0, x1, y0, y1] in the
// condition's window units (log10 on a log axis); window edges are the edge pixels' centres.
function toWindow(u, v, w) {
  return [w[0] + u * (w[1] - w[0]), w[3] - v * (w[3] - w[2])];
}

function frame() {
  return state.pending || (state.current && state.current.info.window);
}

function fraction(event) {
  const r = $('stage').getBoundingClientRect();
  return [(event.clientX - r.left) / r.width, (event.clientY - r.top) / r.height];
}

function hyper(coordinate, scale) {
  return scale === 'log' ? Math.pow(10, coordinate) : coordinate;
}

function query(view) {
  return `condition=${encodeURIComponent(view.condition)}&window=${view.window.map(String).join(',')}` +
    `&steps=${view.steps}`;
}

function currentView(changes) {
  const info = state.current.info;
  return Object.assign({condition: info.condition, window: info.window, steps: info.steps}, changes);
}

// ------------------------------------------------------------------ drawing
function drawFrame(w) {
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
  const s = state.shown;
  if (!s || !w) return;
  // pixel (i, j) is the cell around its centre; nearest-neighbour upscaling
  const hx = (s.bounds[1] - s.bounds[0]) / (s.nx - 1);
  const hy = (s.bounds[3] - s.bounds[2]) / (s.ny - 1);
  const px = (x) => ((x - w[0]) / (w[1] - w[0])) * width;
  const py = (y) => (1 - (y - w[2]) / (w[3] - w[2])) * height;
  const left = px(s.bounds[0] - hx / 2);
  const right = px(s.bounds[1] + hx / 2);
  const top = py(s.bounds[3] + hy / 2);
  const bottom = py(s.bounds[2] - hy / 2);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(s.image, left, top, right - left, bottom - top);
}

function redraw() {
  drawFrame(frame());
}

function decode(buffer, header, bounds) {
  const nx = header.nx;
  const ny = header.ny;
  const n = nx * ny;
  const image = document.createElement('canvas');
  image.width = nx;
  image.height = ny;
  const rgba = new Uint8ClampedArray(buffer, 13 * n, 4 * n);
  image.getContext('2d').putImageData(new ImageData(rgba, nx, ny), 0, 0);
  return {
    bounds: bounds.slice(),
    nx,
    ny,
    values: new Float64Array(buffer, 0, n),
    divergedAt: new Int32Array(buffer, 8 * n, n),
    converged: new Uint8Array(buffer, 12 * n, n),
    image,
  };
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
    const at = (100 * k) / (labels.length - 1);
    if (vertical) span.style.top = `${100 - at}%`;
    else span.style.left = `${at}%`;
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
  const room = info.headroom;
  $('headroom').textContent = room < 1
    ? `${room.toFixed(2)} decades: close to float64's limit at ${info.max_resolution}²`
    : `${room.toFixed(1)} decades left at ${info.max_resolution}²`;
  $('headroom').className = room < 1 ? 'warn' : '';
  $('condition').value = info.condition;
  $('steps').value = info.steps;
  const target = info.zoom;
  $('target-text').textContent = target.text || target.reason;
  $('copy').hidden = !target.text;
  $('copied').textContent = '';
  for (const id of ['download-npz', 'download-png']) {
    $(id).classList.add('disabled');
    $(id).removeAttribute('href');
  }
}

function formatValue(value, digits) {
  const text = value.toPrecision(Math.min(17, digits + 1));
  return text.replace(/e\+?/, 'e');
}

function readout(event) {
  if (!state.current) return;
  const w = frame();
  const [u, v] = fraction(event);
  const [x, y] = toWindow(u, v, w);
  const axes = state.current.info.axes;
  $('read-x').textContent = formatValue(hyper(x, axes.x.scale), axes.x.digits);
  $('read-y').textContent = formatValue(hyper(y, axes.y.scale), axes.y.digits);
  const s = state.shown;
  let value = '–';
  let label = '–';
  if (s && s.bounds.every((b, k) => b === w[k])) {
    const col = Math.round(((x - w[0]) / (w[1] - w[0])) * (s.nx - 1));
    const row = Math.round(((y - w[2]) / (w[3] - w[2])) * (s.ny - 1));
    if (col >= 0 && col < s.nx && row >= 0 && row < s.ny) {
      const k = row * s.nx + col;
      value = s.values[k].toPrecision(6);
      const step = s.divergedAt[k];
      label = s.converged[k] ? 'converged' : step >= 0 ? `diverged (retired at step ${step})` : 'diverged';
    }
  }
  $('read-value').textContent = value;
  $('read-label').textContent = label;
}

// ------------------------------------------------------------------ views
// how: 'push' (a new history entry), 'replace' (first load) or 'none' (the browser's back)
async function go(search, how) {
  const generation = ++state.generation;
  if (state.controller) state.controller.abort();
  const controller = new AbortController();
  state.controller = controller;
  const signal = controller.signal;
  let info;
  try {
    const response = await fetch(`/api/view?${search}`, {signal});
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || `the server answered ${response.status}`);
    info = body;
  } catch (err) {
    if (err.name === 'AbortError') return;
    showError(err.message);
    state.pending = null;
    redraw();
    return;
  }
  if (generation !== state.generation) return;
  clearError();
  const address = `?${info.query}`;
  if (how === 'push' && address !== location.search) history.pushState(null, '', address);
  else if (how !== 'push') history.replaceState(null, '', address);
  const keep = state.current && state.current.info.condition === info.condition &&
    state.current.info.steps === info.steps;
  if (!keep) state.shown = null; // another condition: the old picture would mislead
  state.current = {info};
  state.pending = null;
  document.body.dataset.view = info.query;
  document.body.dataset.final = 'false';
  document.body.dataset.pass = '';
  describe(info);
  redraw();
  for (const res of info.passes) {
    const last = res === info.passes[info.passes.length - 1];
    $('status').textContent = `computing ${res}²…`;
    let header;
    let buffer;
    try {
      const response = await fetch(`/api/grid?${info.query}&res=${res}`, {signal});
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        throw new Error(body.error || `the server answered ${response.status}`);
      }
      header = JSON.parse(response.headers.get('X-Grid'));
      buffer = await response.arrayBuffer();
    } catch (err) {
      if (err.name === 'AbortError') return;
      showError(err.message);
      $('status').textContent = 'stopped';
      return;
    }
    if (generation !== state.generation) return;
    state.shown = decode(buffer, header, info.window);
    redraw();
    const how = header.source === 'computed' ? `computed in ${header.seconds.toFixed(1)} s`
      : header.source === 'workflow' ? "the workflow's grid" : 'from the cache';
    $('status').textContent = `${res}² ${last ? '(final)' : `of ${info.max_resolution}²`}, ${how}`;
    for (const [id, ext] of [['download-npz', 'npz'], ['download-png', 'png']]) {
      $(id).href = `/api/grid.${ext}?${info.query}&res=${res}`;
      $(id).classList.remove('disabled');
    }
    document.body.dataset.pass = String(res);
  }
  document.body.dataset.final = 'true';
}

function navigate(changes) {
  go(query(currentView(changes)), 'push');
}

// the new window after zooming by f about (cx, cy); when widening, the axes' allowed
// intervals are kept (an open upper bound is not passed)
function zoomed(w, f, cx, cy) {
  const out = [cx - (cx - w[0]) * f, cx + (w[1] - cx) * f, cy - (cy - w[2]) * f, cy + (w[3] - cy) * f];
  if (f <= 1 || !state.current) return out;
  const axes = state.current.info.axes;
  [[axes.x, 0], [axes.y, 2]].forEach(([axis, k]) => {
    const toUnits = (value) => (axis.scale === 'log' ? Math.log10(value) : value);
    if (axis.low !== null && out[k] < toUnits(axis.low)) out[k] = Math.max(toUnits(axis.low), w[k]);
    if (axis.high !== null) {
      const high = toUnits(axis.high);
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
  const [cx, cy] = toWindow(u, v, w);
  const f = Math.exp(event.deltaY * (event.deltaMode === 1 ? 0.05 : 0.002));
  state.pending = zoomed(w, f, cx, cy);
  redraw();
  clearTimeout(state.wheelTimer);
  state.wheelTimer = setTimeout(() => {
    const target = state.pending;
    if (target) go(query(currentView({window: target})), 'push');
  }, 150);
}

function onPointerDown(event) {
  if (event.button !== 0 || !state.current) return;
  state.drag = {start: fraction(event)};
  $('stage').setPointerCapture(event.pointerId);
}

function onPointerMove(event) {
  readout(event);
  if (!state.drag) return;
  const [u0, v0] = state.drag.start;
  const [u1, v1] = fraction(event);
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
  state.drag = null;
  $('box').hidden = true;
  const r = $('stage').getBoundingClientRect();
  if (Math.abs(u1 - u0) * r.width < 4 || Math.abs(v1 - v0) * r.height < 4) return; // a click
  const w = frame();
  const [x0, y1] = toWindow(Math.min(u0, u1), Math.min(v0, v1), w);
  const [x1, y0] = toWindow(Math.max(u0, u1), Math.max(v0, v1), w);
  state.pending = [x0, x1, y0, y1];
  redraw();
  go(query(currentView({window: state.pending})), 'push');
}

function zoomOut() {
  if (!state.current) return;
  const w = state.current.info.window;
  const target = zoomed(w, 2, (w[0] + w[1]) / 2, (w[2] + w[3]) / 2);
  navigate({window: target});
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

async function start() {
  const stage = $('stage');
  stage.addEventListener('wheel', onWheel, {passive: false});
  stage.addEventListener('pointerdown', onPointerDown);
  stage.addEventListener('pointermove', onPointerMove);
  stage.addEventListener('pointerup', onPointerUp);
  stage.addEventListener('pointercancel', () => { state.drag = null; $('box').hidden = true; });
  $('zoom-out').addEventListener('click', zoomOut);
  $('back').addEventListener('click', () => history.back());
  $('reset').addEventListener('click', () => {
    go(`condition=${encodeURIComponent($('condition').value)}`, 'push');
  });
  $('condition').addEventListener('change', (e) => go(`condition=${encodeURIComponent(e.target.value)}`, 'push'));
  $('steps').addEventListener('change', (e) => {
    if (state.current) go(query(currentView({steps: e.target.value})), 'push');
  });
  $('use-target').addEventListener('click', () => {
    $('target').hidden = false;
    copyTarget();
  });
  $('copy').addEventListener('click', copyTarget);
  window.addEventListener('popstate', () => go(location.search.slice(1), 'none'));
  window.addEventListener('resize', redraw);
  try {
    const response = await fetch('/api/study');
    const study = await response.json();
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
