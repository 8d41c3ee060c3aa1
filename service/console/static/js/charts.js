// Small SVG charts (bars or lines over time buckets): no chart library, nothing loaded from elsewhere.
import { h } from "./ui.js";

const NS = "http://www.w3.org/2000/svg";
const WIDTH = 600;
const HEIGHT = 180;
const PAD = { left: 60, right: 8, top: 10, bottom: 22 };

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

function label(x, y, text, anchor = "start") {
  const node = svg("text", { x, y, "text-anchor": anchor, class: "axis" });
  node.textContent = text;
  return node;
}

function short(value) {
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return String(Math.round(value * 10) / 10);
}

// `series`: [{key, label, tone}] read from each bucket; `bars` stacks them as bars, else one line each.
export function timeChart(title, buckets, series, { bars = false, unit = "" } = {}) {
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const total = (bucket) => series.reduce((sum, s) => sum + (bucket[s.key] || 0), 0);
  const peak = Math.max(1, ...buckets.map((bucket) => (bars ? total(bucket) : Math.max(...series.map((s) => bucket[s.key] || 0)))));
  const step = plotW / Math.max(1, buckets.length);
  const y = (value) => PAD.top + plotH - (value / peak) * plotH;
  const chart = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-label": title, class: "chart" },
    svg("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(0), y2: y(0), class: "grid" }),
    svg("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(peak), y2: y(peak), class: "grid" }),
    label(PAD.left - 4, y(peak) + 4, `${short(peak)}${unit}`, "end"), label(PAD.left - 4, y(0), `0${unit}`, "end"));
  if (buckets.length) {
    const day = (bucket) => new Date(bucket.start).toLocaleDateString(undefined, { month: "short", day: "numeric" });
    chart.append(label(PAD.left, HEIGHT - 4, day(buckets[0])), label(WIDTH - PAD.right, HEIGHT - 4, day(buckets.at(-1)), "end"));
  }
  buckets.forEach((bucket, index) => {
    if (!bars) return;
    let base = 0;
    for (const s of series) {
      const value = bucket[s.key] || 0;
      if (!value) continue;
      chart.append(svg("rect", { x: PAD.left + index * step + step * 0.15, width: step * 0.7,
        y: y(base + value), height: y(base) - y(base + value), class: `tone-${s.tone}` },
      svg("title", {}, `${bucket.start}: ${s.label} ${short(value)}${unit}`)));
      base += value;
    }
  });
  if (!bars) {
    for (const s of series) {
      const points = buckets.map((bucket, index) => [bucket[s.key], PAD.left + (index + 0.5) * step])
        .filter(([value]) => value !== null && value !== undefined)
        .map(([value, x]) => `${x.toFixed(1)},${y(value).toFixed(1)}`);
      if (points.length) chart.append(svg("polyline", { points: points.join(" "), class: `line tone-${s.tone}` }));
      for (const point of points) {  // a lone bucket has no line to draw: its dot still shows
        const [x, yy] = point.split(",");
        chart.append(svg("circle", { cx: x, cy: yy, r: 3, class: `tone-${s.tone}` }));
      }
    }
  }
  const legend = h("div", { class: "legend" }, series.map((s) => h("span", { class: `key tone-${s.tone}`, text: s.label })));
  return h("figure", { class: "card chart-card" }, h("figcaption", { text: title }), chart, legend);
}
