"use strict";
// The explorer page: reads the data block, draws the map (ExploreView) and answers the
// search box, the tooltip, clicks, colours, labels and the before/after toggle. Keys reach
// the page only through textContent and canvas text, never as markup.
(() => {
  const V = ExploreView;
  const data = JSON.parse(document.getElementById("explore-data").textContent);
  const n = data.count, k = data.k, keys = data.keys, titles = data.titles;
  const counts = V.decode(data.counts);
  const learned = V.decode(data.layouts.learned);
  const initial = V.decode(data.layouts.initial);
  const neighbors = V.decode(data.neighbors), scores = V.decode(data.scores);
  const labelOrder = V.decode(data.labels);
  const columns = data.columns.map((c) => ({ ...c, values: V.decode(c.values),
    codes: V.decode(c.codes) }));
  const $ = (id) => document.getElementById(id);
  const PLAIN = [31, 119, 180], UNKNOWN = V.hexColor("#c8c8c8"), OTHER = V.hexColor("#555555");
  const RINGS = { match: [232, 115, 12], neighbor: [29, 36, 51], selected: [214, 39, 40],
    hover: [29, 36, 51] };
  const LABEL_CHARS = 28, TEXT_CHARS = 240, LISTED = 200;
  const number = (v) => (Number.isInteger(v) ? v.toLocaleString("en-US")
    : Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2)
      : v.toPrecision(3));
  const clip = (text, size) => (text.length <= size ? text : `${text.slice(0, size - 1)}…`);
  const nameOf = (i) => (titles && titles[i]) || keys[i];
  const shortNames = new Map();
  const shortName = (i) => {
    if (!shortNames.has(i)) shortNames.set(i, clip(nameOf(i).replace(/\s+/g, " ").trim(), LABEL_CHARS));
    return shortNames.get(i);
  };
  let index = null;  // key -> point, built on first use
  const pointOf = (key) => {
    if (!index) index = new Map(keys.map((key_, i) => [key_, i]));
    return index.has(key) ? index.get(key) : -1;
  };

  // --- state -------------------------------------------------------------------------
  const state = { center: [0, 0], zoom: 1, mix: 0, target: 0, column: null, selected: -1,
    hover: -1, matches: [], active: 0, frames: 0 };
  const rgba = new Uint8Array(4 * n);
  const stage = $("stage"), labelCanvas = $("labels");
  const drawn = V.renderer($("points"), learned, initial, n);
  const canvas = drawn.canvas, points = drawn.draw;
  const labelCtx = labelCanvas.getContext("2d");
  const grids = {};
  let size = { w: 1, h: 1, dpr: 1 }, animation = null, scheduled = false;
  const ppu = () => state.zoom * 0.46 * Math.min(size.w, size.h);
  const baseSize = n > 50000 ? 2.5 : n > 10000 ? 3.5 : n > 1000 ? 5 : 7;

  function at(i) {
    let x = learned[2 * i], y = learned[2 * i + 1];
    if (initial && state.mix > 0) {
      x += (initial[2 * i] - x) * state.mix; y += (initial[2 * i + 1] - y) * state.mix;
    }
    return [x, y];
  }
  const toScreen = ([x, y]) => [(x - state.center[0]) * ppu() + size.w / 2,
    size.h / 2 - (y - state.center[1]) * ppu()];
  const fromScreen = (sx, sy) => [state.center[0] + (sx - size.w / 2) / ppu(),
    state.center[1] - (sy - size.h / 2) / ppu()];

  // --- drawing -------------------------------------------------------------------------
  function resize() {
    const box = stage.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
    size = { w: Math.max(1, box.width), h: Math.max(1, box.height), dpr };
    for (const c of [canvas, labelCanvas]) {
      c.width = Math.round(size.w * dpr); c.height = Math.round(size.h * dpr);
    }
    redraw();
  }
  function redraw() {
    if (!scheduled) { scheduled = true; requestAnimationFrame(frame); }
  }
  function frame(now) {
    scheduled = false;
    if (animation) {
      const t = Math.min(1, (now - animation.start) / animation.duration);
      animation.step(t < 0.5 ? 2 * t * t : 1 - (-2 * t + 2) ** 2 / 2);
      if (t >= 1) { animation = null; } else { redraw(); }
    }
    render();
  }
  function render() {
    const p = ppu(), busy = state.selected >= 0 || state.matches.length > 0;
    points.draw({ width: canvas.width, height: canvas.height, center: state.center,
      scale: [(2 * p) / size.w, (2 * p) / size.h], mix: state.mix,
      size: baseSize * Math.min(3, state.zoom ** 0.3) * size.dpr, alpha: busy ? 0.35 : 0.8 });
    drawLabels();
    state.frames += 1;
  }
  function animate(duration, step) {
    animation = { start: performance.now(), duration, step };
    redraw();
  }

  // Labels: the selection first, then the data's label order, skipping any that overlaps.
  function drawLabels() {
    const ctx = labelCtx;
    ctx.setTransform(size.dpr, 0, 0, size.dpr, 0, 0);
    ctx.clearRect(0, 0, size.w, size.h);
    ctx.font = "11.5px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    ctx.lineJoin = "round";
    const placed = [], limit = Math.max(12, Math.round((size.w * size.h) / 9000));
    const chosen = [];
    if (state.selected >= 0) {
      chosen.push([state.selected, true]);
      for (const j of neighborsOf(state.selected)) chosen.push([j, true]);
    }
    if (state.hover >= 0) chosen.push([state.hover, true]);
    for (const j of state.matches.slice(0, 12)) chosen.push([j, true]);
    const strong = chosen.length;
    for (const j of labelOrder) chosen.push([j, false]);
    for (let c = 0; c < chosen.length && placed.length < limit + strong; c++) {
      const [i, bold] = chosen[c];
      const [sx, sy] = toScreen(at(i));
      if (sx < 0 || sy < 0 || sx > size.w || sy > size.h) continue;
      const text = shortName(i), w = ctx.measureText(text).width;
      const box = [sx + 5, sy - 8, sx + 9 + w, sy + 8];
      if (placed.some((b) => box[0] < b[2] && b[0] < box[2] && box[1] < b[3] && b[1] < box[3])) {
        continue;
      }
      placed.push(box);
      ctx.font = `${bold ? "600 " : ""}11.5px system-ui, sans-serif`;
      ctx.lineWidth = 3; ctx.strokeStyle = "rgba(255,255,255,0.9)";
      ctx.strokeText(text, sx + 6, sy);
      ctx.fillStyle = bold ? "#1d2433" : "#3b4456";
      ctx.fillText(text, sx + 6, sy);
    }
  }

  // --- colours and legend --------------------------------------------------------------
  function colorOf(column, i) {
    if (!column) return PLAIN;
    if (column.kind === "continuous") {
      const v = column.values[i];
      return Number.isNaN(v) ? UNKNOWN : V.ramp(column.scale, V.position(column, v));
    }
    const code = column.codes[i];
    if (code === column.unknown) return UNKNOWN;
    return code < column.named ? V.hexColor(column.legend[code].color) : OTHER;
  }
  function valueOf(column, i) {
    if (column.kind === "continuous") {
      const v = column.values[i];
      return Number.isNaN(v) ? "unknown" : number(v);
    }
    return column.distinct[column.codes[i]];
  }
  function setColor(name) {
    const column = name == null || name === "" ? null : columns.find((c) => c.name === name);
    if (column === undefined) {
      throw new Error(`No column ${JSON.stringify(name)}; the page has ` +
        `${JSON.stringify(columns.map((c) => c.name))}.`);
    }
    state.column = column;
    for (let i = 0; i < n; i++) {
      rgba.set(colorOf(column, i), 4 * i); rgba[4 * i + 3] = 255;
    }
    points.setColors(rgba);
    $("color").value = column ? String(columns.indexOf(column)) : "";
    legend(column);
    highlight();
    return column ? column.name : null;
  }
  function element(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function swatch(color, label) {
    const row = element("div", "entry"), dot = element("span", "swatch");
    dot.style.background = `rgb(${color.join(",")})`;
    row.append(dot, element("span", "name", label));
    return row;
  }
  function legend(column) {
    const box = $("legend");
    box.replaceChildren();
    box.hidden = !column;
    if (!column) return;
    box.append(element("div", "heading", clip(column.name, 80)));
    if (column.kind === "continuous") {
      const bar = element("div", "ramp");
      bar.style.background = V.gradient(column.scale);
      const ends = element("div", "ends");
      const marks = column.scale === "diverging" ? [column.low, column.centre, column.high]
        : [column.low, column.high];
      for (const m of marks) ends.append(element("span", "", number(m)));
      box.append(bar, ends);
      if (column.values.some(Number.isNaN)) box.append(swatch(UNKNOWN, "unknown"));
      return;
    }
    for (const entry of column.legend) box.append(swatch(V.hexColor(entry.color), clip(entry.name, 60)));
  }

  // --- highlights, selection, search ---------------------------------------------------
  function neighborsOf(i) {
    const found = [];
    for (let j = 0; j < k; j++) if (neighbors[i * k + j] >= 0) found.push(neighbors[i * k + j]);
    return found;
  }
  function highlight() {
    const groups = [];
    if (state.matches.length) groups.push({ indices: state.matches.slice(0, 5000), ring: RINGS.match, grow: 1.7 });
    if (state.selected >= 0) {
      groups.push({ indices: neighborsOf(state.selected), ring: RINGS.neighbor, grow: 2 });
      groups.push({ indices: [state.selected], ring: RINGS.selected, grow: 2.8 });
    }
    if (state.hover >= 0) groups.push({ indices: [state.hover], ring: RINGS.hover, grow: 2.4 });
    points.setHighlights(groups, rgba);
    redraw();
  }
  function facts(list, i) {
    list.replaceChildren();
    const add = (term, value) => list.append(element("dt", "", term), element("dd", "", value));
    if (titles && titles[i] && titles[i] !== keys[i]) add("key", clip(keys[i], TEXT_CHARS));
    if (counts) add("frequency", number(counts[i]));
    for (const column of columns) add(clip(column.name, 40), clip(String(valueOf(column, i)), TEXT_CHARS));
  }
  function item(i, figure, onClick) {
    const li = element("li");
    li.append(element("span", "name", clip(nameOf(i), TEXT_CHARS)));
    if (figure !== undefined) li.append(element("span", "figure", figure));
    li.addEventListener("click", onClick);
    return li;
  }
  function select(key, { jump = true } = {}) {
    const i = typeof key === "number" ? key : pointOf(String(key));
    if (i < 0 || i >= n) return null;
    state.selected = i;
    $("matches").hidden = true;
    $("selected-name").textContent = clip(nameOf(i), TEXT_CHARS);
    facts($("selected-facts"), i);
    const list = $("neighbor-list");
    list.replaceChildren();
    const found = neighborsOf(i);
    found.forEach((j, r) => {
      const s = scores[i * k + r];
      list.append(item(j, s === -32768 ? "" : (s / 32767).toFixed(3), () => select(j)));
    });
    $("selection-hint").hidden = true;
    highlight();
    if (jump) jumpTo(i);
    return found.map((j) => keys[j]);
  }
  function clearSelection() {
    state.selected = -1;
    $("selected-name").textContent = "Nearest entries";
    $("selected-facts").replaceChildren();
    $("neighbor-list").replaceChildren();
    $("selection-hint").hidden = false;
    highlight();
  }
  let lowered = null;
  function search(query) {
    const q = String(query ?? "").trim().toLowerCase();
    const box = $("matches");
    state.matches = [];
    state.active = 0;
    if (!q) { box.hidden = true; highlight(); return []; }
    if (!lowered) {
      lowered = keys.map((key) => key.toLowerCase());
      if (titles) lowered = lowered.map((key, i) => [key, (titles[i] || "").toLowerCase()]);
    }
    for (let i = 0; i < n; i++) {
      const l = lowered[i];
      if (titles ? l[0].startsWith(q) || l[1].startsWith(q) : l.startsWith(q)) state.matches.push(i);
    }
    const m = state.matches.length;
    $("match-count").textContent = m === 0 ? "No entry starts so."
      : `${number(m)} match${m === 1 ? "" : "es"}, most frequent first` +
        (m > LISTED ? ` (the first ${LISTED} listed)` : "");
    const list = $("match-list");
    list.replaceChildren();
    state.matches.slice(0, LISTED).forEach((i, r) => {
      const li = item(i, counts ? number(counts[i]) : undefined, () => pick(r));
      if (r === 0) li.classList.add("active");
      list.append(li);
    });
    box.hidden = false;
    highlight();
    return state.matches.map((i) => keys[i]);
  }
  function pick(r) {
    if (state.matches[r] !== undefined) select(state.matches[r]);
  }
  function jumpTo(i) {
    const from = state.center.slice(), to = at(i), z0 = state.zoom;
    const z1 = Math.max(z0, Math.min(6, Math.sqrt(n) / 15));
    animate(450, (t) => {
      state.center = [from[0] + (to[0] - from[0]) * t, from[1] + (to[1] - from[1]) * t];
      state.zoom = z0 * (z1 / z0) ** t;
    });
  }
  function fit() {
    const from = state.center.slice(), z0 = state.zoom;
    animate(350, (t) => {
      state.center = [from[0] * (1 - t), from[1] * (1 - t)];
      state.zoom = z0 * (1 / z0) ** t;
    });
  }
  function toggle() {
    if (!initial) return "learned";
    const from = state.mix;
    state.target = state.target ? 0 : 1;
    const to = state.target;
    state.hover = -1;
    animate(900, (t) => { state.mix = from + (to - from) * t; });
    $("toggle").textContent = to ? "Show after training" : "Show before training";
    $("axes").textContent = axesText();
    highlight();
    return to ? "initial" : "learned";
  }
  const axesText = () => `${state.target ? "before training · " : ""}x: ${data.axes[0]} · y: ${data.axes[1]}`;

  // --- pointer, wheel and keys ---------------------------------------------------------
  function under(event) {
    if (animation && state.mix !== state.target) return -1;
    const layout = state.target && initial ? "initial" : "learned";
    if (!grids[layout]) grids[layout] = V.grid(layout === "initial" ? initial : learned, n);
    const box = canvas.getBoundingClientRect();
    const [x, y] = fromScreen(event.clientX - box.left, event.clientY - box.top);
    return grids[layout].nearest(x, y, Math.max(6, baseSize * 1.5) / ppu());
  }
  function tooltip(i, event) {
    const tip = $("tooltip");
    if (i < 0) { tip.hidden = true; return; }
    tip.replaceChildren(element("div", "title", clip(nameOf(i), TEXT_CHARS)));
    if (titles && titles[i] && titles[i] !== keys[i]) tip.append(element("div", "row", `key: ${clip(keys[i], TEXT_CHARS)}`));
    if (counts) tip.append(element("div", "row", `frequency: ${number(counts[i])}`));
    for (const column of columns) {
      tip.append(element("div", "row", `${clip(column.name, 40)}: ${clip(String(valueOf(column, i)), TEXT_CHARS)}`));
    }
    const box = stage.getBoundingClientRect();
    tip.hidden = false;
    const x = event.clientX - box.left + 14, y = event.clientY - box.top + 14;
    tip.style.left = `${Math.min(x, size.w - tip.offsetWidth - 6)}px`;
    tip.style.top = `${Math.min(y, size.h - tip.offsetHeight - 6)}px`;
  }
  let drag = null;
  canvas.addEventListener("pointerdown", (e) => {
    drag = { x: e.clientX, y: e.clientY, center: state.center.slice(), moved: false };
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener("pointermove", (e) => {
    if (drag) {
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      if (drag.moved) {
        canvas.classList.add("dragging");
        state.center = [drag.center[0] - dx / ppu(), drag.center[1] + dy / ppu()];
        $("tooltip").hidden = true;
        redraw();
        return;
      }
    }
    const i = under(e);
    if (i !== state.hover) { state.hover = i; highlight(); }
    tooltip(i, e);
  });
  canvas.addEventListener("pointerup", (e) => {
    if (drag && !drag.moved) {
      const i = under(e);
      if (i >= 0) select(i, { jump: false }); else clearSelection();
    }
    drag = null;
    canvas.classList.remove("dragging");
  });
  canvas.addEventListener("pointerleave", () => {
    $("tooltip").hidden = true;
    if (state.hover >= 0) { state.hover = -1; highlight(); }
  });
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    const box = canvas.getBoundingClientRect();
    const sx = e.clientX - box.left, sy = e.clientY - box.top;
    const [x, y] = fromScreen(sx, sy);
    const step = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? size.h : 1;
    state.zoom = Math.min(400, Math.max(0.2, state.zoom * Math.exp(-e.deltaY * step * 0.0015)));
    state.center = [x - (sx - size.w / 2) / ppu(), y + (sy - size.h / 2) / ppu()];
    redraw();
  }, { passive: false });
  const input = $("search");
  input.addEventListener("input", () => search(input.value));
  input.addEventListener("keydown", (e) => {
    const rows = $("match-list").children;
    if (e.key === "Enter") { pick(state.active); e.preventDefault(); return; }
    if (e.key === "Escape") { input.value = ""; search(""); input.blur(); return; }
    if ((e.key === "ArrowDown" || e.key === "ArrowUp") && rows.length) {
      rows[state.active]?.classList.remove("active");
      state.active = (state.active + (e.key === "ArrowDown" ? 1 : rows.length - 1)) % rows.length;
      rows[state.active].classList.add("active");
      rows[state.active].scrollIntoView({ block: "nearest" });
      e.preventDefault();
    }
  });
  document.addEventListener("keydown", (e) => {
    if (e.target === input || e.target.tagName === "SELECT") return;
    if (e.key === "/") { input.focus(); e.preventDefault(); }
    if (e.key === "f" || e.key === "F") fit();
    if (e.key === "Escape") clearSelection();
  });
  $("fit").addEventListener("click", fit);
  $("toggle").addEventListener("click", toggle);
  $("color").addEventListener("change", (e) => {
    setColor(e.target.value === "" ? null : columns[Number(e.target.value)].name);
  });

  // --- the page's frame ----------------------------------------------------------------
  $("table-name").textContent = clip(data.table, 80);
  $("summary").textContent = `${number(n)} of ${number(data.total)} entries · ${data.kind} · ` +
    `${data.method} · ${Math.min(k, n - 1)} neighbors each` +
    (data.leftOut ? ` · ${number(data.leftOut)} left out (NaN or infinite values)` : "");
  $("axes").textContent = axesText();
  const choice = $("color");
  choice.append(Object.assign(element("option", "", "none"), { value: "" }));
  columns.forEach((c, i) => choice.append(Object.assign(element("option", "", clip(c.name, 60)), { value: String(i) })));
  $("color-choice").hidden = columns.length === 0;
  $("toggle").hidden = !initial;
  if (data.moved.length) {
    $("moved").hidden = false;
    for (const [i, d] of data.moved) $("moved-list").append(item(i, d.toFixed(3), () => select(i)));
  }
  if (points.kind !== "webgl") {
    $("message").hidden = false;
    $("message").textContent = "WebGL is unavailable here; the map is drawn on a plain canvas.";
    setTimeout(() => { $("message").hidden = true; }, 4000);
  }
  setColor(data.color);
  resize();
  new ResizeObserver(resize).observe(stage);
  render();

  window.explorer = Object.freeze({
    count: n,
    renderer: points.kind,
    search: (query) => { input.value = String(query ?? ""); const found = search(query);
      if (state.matches.length) jumpTo(state.matches[0]); return found; },
    select: (key) => select(key),
    color: (column) => setColor(column),
    toggle,
    get layout() { return state.target ? "initial" : "learned"; },
    get moving() { return animation !== null; },
    get frames() { return state.frames; },
    get legend() { return $("legend").hidden ? "" : $("legend").textContent; },
    position: (key) => { const i = pointOf(String(key)); return i < 0 ? null : at(i); },
    screen: (key) => { const i = pointOf(String(key)), box = canvas.getBoundingClientRect();
      return i < 0 ? null : toScreen(at(i)).map((v, j) => v + (j ? box.top : box.left)); },
    neighbors: (key) => { const i = pointOf(String(key)); return i < 0 ? null : neighborsOf(i).map((j) => keys[j]); },
  });
})();
