"use strict";
// The explorer's drawing parts: typed arrays from the page's data, colour scales, a WebGL
// point renderer (a plain 2-D canvas where WebGL is missing) and a grid to find the point
// under the cursor. explore.js builds the page from these.
const ExploreView = (() => {
  const DTYPES = { f4: Float32Array, f8: Float64Array, u4: Uint32Array, i4: Int32Array,
    i2: Int16Array, u2: Uint16Array, u1: Uint8Array };

  // {"dtype", "b64"} (little-endian bytes in base64) -> a typed array; null stays null.
  function decode(packed) {
    if (!packed) return null;
    const text = atob(packed.b64);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return new DTYPES[packed.dtype](bytes.buffer);
  }

  // The static maps' colour maps: viridis (one way) and coolwarm (both ways of a centre).
  const RAMPS = {
    sequential: [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]],
    diverging: [[59, 76, 192], [141, 176, 254], [221, 221, 221], [244, 154, 123],
      [180, 4, 38]],
  };

  function ramp(scale, t) {
    const stops = RAMPS[scale];
    const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
    const i = Math.min(stops.length - 2, Math.floor(x));
    const f = x - i;
    return stops[i].map((c, j) => Math.round(c + (stops[i + 1][j] - c) * f));
  }

  // Where a value sits on a continuous column's scale, 0 to 1.
  function position(column, value) {
    const { low, centre, high } = column;
    if (column.scale === "diverging") {
      return value < centre ? 0.5 * (value - low) / (centre - low)
        : 0.5 + 0.5 * (value - centre) / (high - centre);
    }
    return high > low ? (value - low) / (high - low) : 0.5;
  }

  function gradient(scale) {
    const stops = RAMPS[scale];
    const parts = stops.map((c, i) => `rgb(${c.join(",")}) ${(100 * i) / (stops.length - 1)}%`);
    return `linear-gradient(to right, ${parts.join(", ")})`;
  }

  function hexColor(hex) {
    const v = parseInt(hex.slice(1), 16);
    return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
  }

  const VERTEX = `
attribute vec2 a_learned;
attribute vec2 a_initial;
attribute vec4 a_color;
uniform vec2 u_center;
uniform vec2 u_scale;
uniform float u_mix;
uniform float u_size;
varying vec4 v_color;
void main() {
  vec2 p = mix(a_learned, a_initial, u_mix);
  gl_Position = vec4((p - u_center) * u_scale, 0.0, 1.0);
  gl_PointSize = u_size;
  v_color = a_color;
}`;
  const FRAGMENT = `
precision mediump float;
varying vec4 v_color;
uniform vec4 u_ring;
uniform float u_alpha;
void main() {
  float r = length(gl_PointCoord - vec2(0.5)) * 2.0;
  if (r > 1.0) discard;
  vec3 c = v_color.rgb;
  if (u_ring.a > 0.0 && r > 0.6) c = u_ring.rgb;
  gl_FragColor = vec4(c, v_color.a * u_alpha);
}`;

  function compile(gl, type, source) {
    const shader = gl.createShader(type);
    gl.shaderSource(shader, source);
    gl.compileShader(shader);
    if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) {
      throw new Error(`shader: ${gl.getShaderInfoLog(shader)}`);
    }
    return shader;
  }

  // Points through WebGL: one layer of every point, then small highlight layers on top.
  function glRenderer(gl, learned, initial, n) {
    const program = gl.createProgram();
    gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, VERTEX));
    gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, FRAGMENT));
    gl.linkProgram(program);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS)) {
      throw new Error(`program: ${gl.getProgramInfoLog(program)}`);
    }
    const attrib = (name) => gl.getAttribLocation(program, name);
    const a = { learned: attrib("a_learned"), initial: attrib("a_initial"),
      color: attrib("a_color") };
    const u = {};
    for (const name of ["center", "scale", "mix", "size", "ring", "alpha"]) {
      u[name] = gl.getUniformLocation(program, `u_${name}`);
    }
    const maxSize = gl.getParameter(gl.ALIASED_POINT_SIZE_RANGE)[1] || 64;
    const buffer = (data) => {
      const b = gl.createBuffer();
      gl.bindBuffer(gl.ARRAY_BUFFER, b);
      gl.bufferData(gl.ARRAY_BUFFER, data, gl.STATIC_DRAW);
      return b;
    };
    const learnedBuffer = buffer(learned);
    const base = { learned: learnedBuffer, initial: initial ? buffer(initial) : learnedBuffer,
      color: buffer(new Uint8Array(4 * n)), count: n };
    let highlights = [];

    function bind(location, b, size, type, normalized) {
      gl.bindBuffer(gl.ARRAY_BUFFER, b);
      gl.enableVertexAttribArray(location);
      gl.vertexAttribPointer(location, size, type, normalized, 0, 0);
    }
    function drawLayer(layer, size, alpha, ring) {
      if (!layer.count) return;
      bind(a.learned, layer.learned, 2, gl.FLOAT, false);
      bind(a.initial, layer.initial, 2, gl.FLOAT, false);
      bind(a.color, layer.color, 4, gl.UNSIGNED_BYTE, true);
      gl.uniform1f(u.size, Math.min(maxSize, size));
      gl.uniform1f(u.alpha, alpha);
      gl.uniform4f(u.ring, ring ? ring[0] / 255 : 0, ring ? ring[1] / 255 : 0,
        ring ? ring[2] / 255 : 0, ring ? 1 : 0);
      gl.drawArrays(gl.POINTS, 0, layer.count);
    }
    return {
      kind: "webgl",
      setColors(rgba) {
        gl.bindBuffer(gl.ARRAY_BUFFER, base.color);
        gl.bufferData(gl.ARRAY_BUFFER, rgba, gl.STATIC_DRAW);
      },
      // groups: [{indices, ring: [r, g, b], grow}], drawn in order over every point.
      setHighlights(groups, rgba) {
        for (const h of highlights) {
          gl.deleteBuffer(h.learned); gl.deleteBuffer(h.initial); gl.deleteBuffer(h.color);
        }
        highlights = groups.map((g) => {
          const m = g.indices.length;
          const p = new Float32Array(2 * m), q = new Float32Array(2 * m);
          const c = new Uint8Array(4 * m);
          g.indices.forEach((i, j) => {
            p[2 * j] = learned[2 * i]; p[2 * j + 1] = learned[2 * i + 1];
            const from = initial || learned;
            q[2 * j] = from[2 * i]; q[2 * j + 1] = from[2 * i + 1];
            c.set(rgba.subarray(4 * i, 4 * i + 3), 4 * j); c[4 * j + 3] = 255;
          });
          return { learned: buffer(p), initial: buffer(q), color: buffer(c), count: m,
            ring: g.ring, grow: g.grow };
        });
      },
      draw(s) {
        gl.viewport(0, 0, s.width, s.height);
        gl.clearColor(0.984, 0.984, 0.988, 1);
        gl.clear(gl.COLOR_BUFFER_BIT);
        gl.useProgram(program);
        gl.enable(gl.BLEND);
        gl.blendFunc(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA);
        gl.uniform2f(u.center, s.center[0], s.center[1]);
        gl.uniform2f(u.scale, s.scale[0], s.scale[1]);
        gl.uniform1f(u.mix, s.mix);
        drawLayer(base, s.size, s.alpha, null);
        for (const h of highlights) drawLayer(h, s.size * h.grow, 1, h.ring);
      },
    };
  }

  // The same on a 2-D canvas: every point as a small square of pixels, highlights as discs.
  function canvasRenderer(ctx, learned, initial, n) {
    let colors = new Uint8Array(4 * n), groups = [];
    const at = (i, s) => {
      let x = learned[2 * i], y = learned[2 * i + 1];
      if (initial && s.mix > 0) {
        x += (initial[2 * i] - x) * s.mix; y += (initial[2 * i + 1] - y) * s.mix;
      }
      return [(0.5 + 0.5 * (x - s.center[0]) * s.scale[0]) * s.width,
        (0.5 - 0.5 * (y - s.center[1]) * s.scale[1]) * s.height];
    };
    return {
      kind: "canvas",
      setColors(rgba) { colors = rgba; },
      setHighlights(list) { groups = list; },
      draw(s) {
        const image = ctx.createImageData(s.width, s.height);
        const px = image.data;
        px.fill(251);
        const half = Math.max(1, Math.round(s.size / 2));
        for (let i = 0; i < n; i++) {
          const [x, y] = at(i, s);
          const x0 = Math.round(x) - half, y0 = Math.round(y) - half;
          if (x0 < 0 || y0 < 0 || x0 + 2 * half >= s.width || y0 + 2 * half >= s.height) continue;
          const w = (colors[4 * i + 3] / 255) * s.alpha;
          for (let dy = 0; dy < 2 * half; dy++) {
            for (let dx = 0; dx < 2 * half; dx++) {
              const o = 4 * ((y0 + dy) * s.width + x0 + dx);
              for (let c = 0; c < 3; c++) px[o + c] += (colors[4 * i + c] - px[o + c]) * w;
            }
          }
        }
        ctx.putImageData(image, 0, 0);
        for (const g of groups) {
          for (const i of g.indices) {
            const [x, y] = at(i, s);
            ctx.beginPath();
            ctx.arc(x, y, (s.size * g.grow) / 2, 0, 2 * Math.PI);
            ctx.fillStyle = `rgb(${colors[4 * i]},${colors[4 * i + 1]},${colors[4 * i + 2]})`;
            ctx.strokeStyle = `rgb(${g.ring.join(",")})`;
            ctx.lineWidth = Math.max(1, s.size * g.grow * 0.2);
            ctx.fill();
            ctx.stroke();
          }
        }
      },
    };
  }

  // WebGL where the browser has it, else a 2-D canvas (the element may be replaced).
  function renderer(canvas, learned, initial, n) {
    const options = { antialias: false, alpha: false, depth: false };
    const gl = canvas.getContext("webgl2", options) || canvas.getContext("webgl", options);
    if (gl) {
      try {
        return { canvas, draw: glRenderer(gl, learned, initial, n) };
      } catch (error) {
        console.warn(`WebGL failed (${error.message}); drawing on a plain canvas.`);
        const fresh = canvas.cloneNode(false);
        canvas.replaceWith(fresh);
        canvas = fresh;
      }
    }
    return { canvas, draw: canvasRenderer(canvas.getContext("2d"), learned, initial, n) };
  }

  // A uniform grid over a layout: which point lies nearest a place, within a radius.
  function grid(xy, n) {
    const size = Math.max(16, Math.min(512, Math.round(Math.sqrt(n / 3))));
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (let i = 0; i < n; i++) {
      x0 = Math.min(x0, xy[2 * i]); x1 = Math.max(x1, xy[2 * i]);
      y0 = Math.min(y0, xy[2 * i + 1]); y1 = Math.max(y1, xy[2 * i + 1]);
    }
    const span = Math.max(x1 - x0, y1 - y0) || 1;
    const cellOf = (v, low) => Math.min(size - 1, Math.max(0, Math.floor(((v - low) / span) * size)));
    const start = new Int32Array(size * size + 1), items = new Int32Array(n);
    const cells = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      cells[i] = cellOf(xy[2 * i + 1], y0) * size + cellOf(xy[2 * i], x0);
      start[cells[i] + 1]++;
    }
    for (let c = 0; c < size * size; c++) start[c + 1] += start[c];
    const fill = start.slice(0, size * size);
    for (let i = 0; i < n; i++) items[fill[cells[i]]++] = i;
    return {
      nearest(x, y, radius) {
        let best = -1, bestD = radius * radius;
        const cx0 = cellOf(x - radius, x0), cx1 = cellOf(x + radius, x0);
        const cy0 = cellOf(y - radius, y0), cy1 = cellOf(y + radius, y0);
        for (let cy = cy0; cy <= cy1; cy++) {
          for (let cx = cx0; cx <= cx1; cx++) {
            const c = cy * size + cx;
            for (let j = start[c]; j < start[c + 1]; j++) {
              const i = items[j];
              const dx = xy[2 * i] - x, dy = xy[2 * i + 1] - y;
              const d = dx * dx + dy * dy;
              if (d < bestD) { bestD = d; best = i; }
            }
          }
        }
        return best;
      },
    };
  }

  return { decode, ramp, position, gradient, hexColor, renderer, grid };
})();
