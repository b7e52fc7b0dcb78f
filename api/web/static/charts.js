// Small inline-SVG charts for the statistics page: grouped horizontal bars (categories) and
// grouped columns (months). Hand-written rather than a vendored library: two chart shapes, no
// axes beyond a baseline, and the one rule no library has — a withheld count ("<5") is drawn as a
// hatched, dashed bar up to the threshold and labelled "<5", never as 0. Drawn at the width of
// their container (redrawn when it changes) so the text keeps its size on a phone.

const SVG = "http://www.w3.org/2000/svg";

function node(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined) element.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Whether ``value`` is a withheld count: a small one ("<5") or one withheld so that a small one
 * cannot be worked out from it ("withheld"). Either is a string, never a number. */
export function withheld(value) {
  return typeof value === "string";
}

/** The length a value is drawn with: a withheld count reaches up to the threshold. */
function extent(value, threshold) {
  if (withheld(value)) return threshold;
  const number = Number(value);
  return Number.isFinite(number) ? number : 0;
}

/** The scale reaches at least twice the threshold: a withheld bar never fills a chart alone. */
let patternCount = 0;

function hatch(id, series) {
  return node(
    "pattern",
    {
      id,
      width: 6,
      height: 6,
      patternUnits: "userSpaceOnUse",
      patternTransform: "rotate(45)",
    },
    node("rect", { width: 6, height: 6, class: `chart-hatch-ground series-${series}` }),
    node("line", { x1: 0, y1: 0, x2: 0, y2: 6, class: `chart-hatch-line series-${series}` }),
  );
}

function svgFrame(width, height, label, seriesCount) {
  patternCount += 1;
  const prefix = `hatch-${patternCount}`;
  const defs = node("defs");
  for (let index = 0; index < seriesCount; index += 1) defs.append(hatch(`${prefix}-${index}`, index));
  const svg = node("svg", {
    class: "chart",
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": label,
  });
  svg.append(defs);
  return { svg, prefix };
}

function bar(x, y, width, height, value, series, prefix) {
  const hidden = withheld(value);
  return node("rect", {
    x,
    y,
    width: Math.max(width, hidden ? 2 : 0),
    height: Math.max(height, 0),
    class: hidden ? `chart-bar chart-bar-withheld series-${series}` : `chart-bar series-${series}`,
    fill: hidden ? `url(#${prefix}-${series})` : null,
    "data-value": String(value),
  });
}

/**
 * Horizontal grouped bars. ``groups``: [{label, values: [v per series]}]; ``series``: names;
 * ``format``: a number as shown. Each group's label stands above its bars (room for long names).
 */
export function barChart({ groups, series, threshold, label, width, format }) {
  const barHeight = 16;
  const gap = 3;
  const labelHeight = 20;
  const groupGap = 12;
  const valueRoom = 56;
  const top = 4;
  const groupHeight = labelHeight + series.length * (barHeight + gap) + groupGap;
  const height = top + groups.length * groupHeight;
  const { svg, prefix } = svgFrame(width, height, label, series.length);
  const max = Math.max(2 * threshold, ...groups.flatMap((g) => g.values.map((v) => extent(v, threshold))));
  const scale = (width - valueRoom - 2) / max;
  groups.forEach((group, index) => {
    let y = top + index * groupHeight;
    svg.append(node("text", { x: 0, y: y + 14, class: "chart-group-label" }, group.label));
    y += labelHeight;
    group.values.forEach((value, s) => {
      const length = extent(value, threshold) * scale;
      svg.append(bar(1, y, length, barHeight, value, s, prefix));
      svg.append(
        node(
          "text",
          { x: length + 6, y: y + barHeight - 3, class: "chart-value" },
          format(value),
        ),
      );
      y += barHeight + gap;
    });
  });
  return svg;
}

/** Grouped columns over time. ``groups``: [{label, values}] in order (months). */
export function columnChart({ groups, series, threshold, label, width, format }) {
  const height = 220;
  const bottom = 24;
  const top = 18;
  const left = 4;
  const { svg, prefix } = svgFrame(width, height, label, series.length);
  const max = Math.max(2 * threshold, ...groups.flatMap((g) => g.values.map((v) => extent(v, threshold))));
  const plot = height - bottom - top;
  const slot = (width - left) / Math.max(groups.length, 1);
  const columnWidth = Math.min(36, Math.max(4, (slot * 0.8) / series.length));
  const labelEvery = Math.ceil(groups.length / Math.max(1, Math.floor(width / 70)));
  svg.append(
    node("line", { x1: 0, x2: width, y1: height - bottom, y2: height - bottom, class: "chart-axis" }),
  );
  groups.forEach((group, index) => {
    const start = left + index * slot + (slot - columnWidth * series.length) / 2;
    group.values.forEach((value, s) => {
      const length = (extent(value, threshold) / max) * plot;
      const x = start + s * columnWidth;
      svg.append(bar(x, height - bottom - length, columnWidth - 1, length, value, s, prefix));
      if (columnWidth >= 14 || groups.length <= 6) {
        svg.append(
          node(
            "text",
            {
              x: x + columnWidth / 2,
              y: height - bottom - length - 4,
              class: "chart-value",
              "text-anchor": "middle",
            },
            format(value),
          ),
        );
      }
    });
    if (index % labelEvery === 0) {
      svg.append(
        node(
          "text",
          {
            x: left + index * slot + slot / 2,
            y: height - 6,
            class: "chart-axis-label",
            "text-anchor": "middle",
          },
          group.label,
        ),
      );
    }
  });
  return svg;
}
