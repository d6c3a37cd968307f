// The dashboard's traffic chart: plain SVG drawn here, no chart library.
// It is drawn at the element's own pixel width, so the axis labels keep their
// size on a phone instead of shrinking with a scaled viewBox.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const CHART_MINUTES = 60;
const MARGIN = { left: 34, right: 8, top: 10, bottom: 22 };

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

// HH:MM on a 24-hour clock, whatever the locale (12-hour "10:20 PM" would crowd).
function clock(ms) {
  const d = new Date(ms);
  return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
}

// A round top for the y axis: 1, 2, 5, 10, 20, 50, ... at or above the peak.
function niceTop(peak) {
  let step = 1;
  for (;;) {
    for (const m of [1, 2, 5]) if (m * step >= peak) return m * step;
    step *= 10;
  }
}

// points: [[epoch minute, count], ...]; nowMinute: the last minute shown.
function drawTraffic(target, points, nowMinute) {
  const width = Math.max(200, Math.round(target.clientWidth || 600));
  const height = 150;
  target.setAttribute("viewBox", "0 0 " + width + " " + height);
  target.setAttribute("height", height);
  const counts = new Map(points.map(([minute, count]) => [minute, count]));
  const first = nowMinute - CHART_MINUTES + 1;
  const values = Array.from({ length: CHART_MINUTES }, (_, i) => counts.get(first + i) || 0);
  const top = niceTop(Math.max(1, ...values));
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const x = (i) => MARGIN.left + i * plotW / (CHART_MINUTES - 1);
  const y = (v) => MARGIN.top + plotH - v * plotH / top;
  const nodes = [];
  for (const v of [0, top / 2, top]) {  // y axis: gridlines and counts per minute
    nodes.push(svg("line", { x1: MARGIN.left, x2: width - MARGIN.right, y1: y(v), y2: y(v),
                             class: v ? "grid" : "axis" }));
    nodes.push(svg("text", { x: MARGIN.left - 4, y: y(v) + 4, "text-anchor": "end",
                             class: "tick ytick" }, String(v)));
  }
  nodes.push(svg("line", { x1: MARGIN.left, x2: MARGIN.left, y1: MARGIN.top, y2: y(0),
                           class: "axis" }));
  nodes.push(svg("text", { x: 10, y: MARGIN.top + plotH / 2, class: "tick",
                           "text-anchor": "middle",
                           transform: "rotate(-90 10 " + (MARGIN.top + plotH / 2) + ")" },
                 "msgs/min"));
  // x axis: a clock time every ten minutes (fewer when narrow), on round minutes.
  const every = plotW < 300 ? 20 : 10;
  for (let i = 0; i < CHART_MINUTES; i++) {
    if ((first + i) % every !== 0) continue;
    nodes.push(svg("line", { x1: x(i), x2: x(i), y1: y(0), y2: y(0) + 4, class: "axis" }));
    nodes.push(svg("text", { x: x(i), y: height - 6, "text-anchor": "middle",
                             class: "tick xtick" }, clock((first + i) * 60000)));
  }
  const path = values.map((v, i) => (i ? "L" : "M") + x(i).toFixed(1) + " " + y(v).toFixed(1));
  nodes.push(svg("path", { d: path.join(" "), class: "line" }));
  target.replaceChildren(...nodes);
  return Math.max(...values);
}
