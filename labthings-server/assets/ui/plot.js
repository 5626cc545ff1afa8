// Line plots drawn by the page itself, as SVG: no library, nothing fetched.
//
// LT.plot.draw(svg, series, options)
//   svg:     an <svg> element to draw into (its content is replaced; it scales to its box).
//   series:  [{ name: string, points: [[x, y], ...] }, ...]; points need not be sorted;
//            non-finite values are skipped.
//   options: { xLabel?: string, yLabel?: string, time?: boolean (x is epoch ms: the axis
//            shows clock times), xMin?, xMax? (fix the x range, e.g. a sliding window) }
//   Sets the svg's role="img" and an aria-label summing the data up (range, last value), so
//   the plot has a text alternative; returns that text.
//
// LT.plot.series(value) → [{ name, points }] | null
//   The series in an output, or null: an array of numbers (y against index), an array of
//   [x, y] pairs, or an object of equal-length number arrays (the first is x, each other a
//   series against it).
//
// LT.plot.trace(options) → { el, push(y, timeMs?), paused }
//   A live trace of one reading over the last `windowMs` (default 120000): options
//   { label, unit?, windowMs? }. `el` holds the plot and a Pause/Resume button (keyboard
//   operable, aria-pressed); `push` adds a value (ignored while paused, but kept).
"use strict";

(function () {
  const NS = "http://www.w3.org/2000/svg";
  const W = 600;
  const H = 200;
  const PAD = { left: 56, right: 12, top: 10, bottom: 34 };
  // Series colours are classes (`s0` … `s4`, in ui.css): a presentation attribute can't use
  // the page's CSS variables.
  const SERIES_CLASSES = 5;

  const svgEl = (name, attrs, text) => {
    const el = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
    if (text !== undefined) el.textContent = text;
    return el;
  };

  /** About five round tick values covering [lo, hi]. */
  function ticks(lo, hi) {
    if (!(hi > lo)) return [lo];
    const raw = (hi - lo) / 5;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
    return out;
  }

  const fmt = (v) => (Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : String(Number(v.toPrecision(4))));
  const clock = (ms) => new Date(ms).toLocaleTimeString();

  function draw(svg, series, options) {
    const opts = options || {};
    const clean = series.map((s) => ({
      name: s.name,
      points: s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).sort((a, b) => a[0] - b[0]),
    }));
    const all = clean.flatMap((s) => s.points);
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("role", "img");
    svg.classList.add("plot");
    svg.replaceChildren();
    if (!all.length) {
      svg.setAttribute("aria-label", "No data yet");
      return "No data yet";
    }
    let xMin = opts.xMin !== undefined ? opts.xMin : Math.min(...all.map((p) => p[0]));
    let xMax = opts.xMax !== undefined ? opts.xMax : Math.max(...all.map((p) => p[0]));
    let yMin = Math.min(...all.map((p) => p[1]));
    let yMax = Math.max(...all.map((p) => p[1]));
    if (xMax === xMin) xMax = xMin + 1;
    if (yMax === yMin) {
      const d = Math.abs(yMin) * 0.01 || 1;
      yMin -= d;
      yMax += d;
    }
    const sx = (x) => PAD.left + ((x - xMin) / (xMax - xMin)) * (W - PAD.left - PAD.right);
    const sy = (y) => H - PAD.bottom - ((y - yMin) / (yMax - yMin)) * (H - PAD.top - PAD.bottom);
    const axes = svgEl("g", { class: "axes", "aria-hidden": "true" });
    axes.append(svgEl("line", { x1: PAD.left, y1: H - PAD.bottom, x2: W - PAD.right, y2: H - PAD.bottom }));
    axes.append(svgEl("line", { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: H - PAD.bottom }));
    for (const y of ticks(yMin, yMax)) {
      axes.append(svgEl("line", { class: "grid", x1: PAD.left, x2: W - PAD.right, y1: sy(y), y2: sy(y) }));
      axes.append(svgEl("text", { x: PAD.left - 4, y: sy(y) + 4, "text-anchor": "end" }, fmt(y)));
    }
    const xTicks = opts.time ? ticks(xMin, xMax).filter((_, i, a) => a.length < 6 || i % 2 === 0) : ticks(xMin, xMax);
    for (const x of xTicks) {
      axes.append(svgEl("text", { x: sx(x), y: H - PAD.bottom + 14, "text-anchor": "middle" }, opts.time ? clock(x) : fmt(x)));
    }
    if (opts.xLabel) axes.append(svgEl("text", { class: "label", x: (W + PAD.left) / 2, y: H - 4, "text-anchor": "middle" }, opts.xLabel));
    if (opts.yLabel) {
      axes.append(svgEl("text", { class: "label", x: 12, y: (H - PAD.bottom) / 2, transform: `rotate(-90 12 ${(H - PAD.bottom) / 2})`, "text-anchor": "middle" }, opts.yLabel));
    }
    svg.append(axes);
    clean.forEach((s, i) => {
      if (!s.points.length) return;
      const d = s.points.map(([x, y], j) => (j ? "L" : "M") + sx(x).toFixed(1) + " " + sy(y).toFixed(1)).join("");
      svg.append(svgEl("path", { class: "line s" + (i % SERIES_CLASSES), d }));
    });
    const summary = clean
      .filter((s) => s.points.length)
      .map((s) => {
        const ys = s.points.map((p) => p[1]);
        const last = s.points[s.points.length - 1];
        return `${s.name}: ${s.points.length} points, from ${fmt(Math.min(...ys))} to ${fmt(Math.max(...ys))}, last ${fmt(last[1])}`;
      })
      .join("; ");
    const label = (opts.yLabel ? opts.yLabel + " — " : "") + summary;
    svg.setAttribute("aria-label", label);
    return label;
  }

  const numbers = (a) => Array.isArray(a) && a.length > 1 && a.every((v) => typeof v === "number");

  function series(value) {
    if (numbers(value)) return [{ name: "value", points: value.map((y, i) => [i, y]) }];
    if (Array.isArray(value) && value.length > 1 && value.every((p) => Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === "number"))) {
      return [{ name: "y", points: value.map((p) => [p[0], p[1]]) }];
    }
    if (value && typeof value === "object" && !Array.isArray(value)) {
      const entries = Object.entries(value);
      if (entries.length >= 2 && entries.every(([, v]) => numbers(v)) && entries.every(([, v]) => v.length === entries[0][1].length)) {
        const [xName, xs] = entries[0];
        return entries.slice(1).map(([name, ys]) => ({ name, xName, points: xs.map((x, i) => [x, ys[i]]) }));
      }
    }
    return null;
  }

  function trace(options) {
    const windowMs = options.windowMs || 120000;
    const yLabel = options.label + (options.unit ? " (" + options.unit + ")" : "");
    const points = [];
    const svg = svgEl("svg", {});
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.textContent = "Pause";
    button.setAttribute("aria-pressed", "false");
    button.setAttribute("aria-label", "Pause the trace of " + options.label);
    const el = document.createElement("figure");
    el.className = "trace";
    const caption = document.createElement("figcaption");
    caption.append(button);
    el.append(svg, caption);
    const handle = { el, paused: false, push, points };
    let pending = false;
    function render() {
      pending = false;
      const now = Date.now();
      draw(svg, [{ name: options.label, points }], { time: true, yLabel, xMin: now - windowMs, xMax: now });
    }
    function push(y, timeMs) {
      if (typeof y !== "number") return;
      const t = timeMs || Date.now();
      points.push([t, y]);
      while (points.length && points[0][0] < t - windowMs) points.shift();
      if (!handle.paused && !pending) {
        pending = true;
        requestAnimationFrame(render);
      }
    }
    button.addEventListener("click", () => {
      handle.paused = !handle.paused;
      button.textContent = handle.paused ? "Resume" : "Pause";
      button.setAttribute("aria-pressed", String(handle.paused));
      if (!handle.paused) render();
    });
    render();
    return handle;
  }

  LT.plot = { draw, series, trace };
})();
