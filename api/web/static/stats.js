// The open statistics (/stats): what GET /v1/stats publishes (counts from the chain's events, as
// of a block, small cells withheld as "<5"), as charts people read at a glance, each with its data
// table beside it and CSV / JSON downloads made in the browser from the same answer. Public: no
// token; the page asks only its own server (the statistics, the catalogue, the departments).

import { barChart, columnChart, withheld } from "./charts.js";
import {
  api,
  categoryTitle,
  clearError,
  departmentLabel,
  el,
  initPage,
  label,
  loadCatalogue,
  loadDepartments,
  onDepartmentsLoaded,
  onLanguageChange,
  showError,
  t,
  typeTitle,
} from "./common.js";
import { getLanguage, languageTag } from "./i18n.js";

const errorBox = document.getElementById("error");
const asOfLine = document.getElementById("stats-asof");
const thresholdLine = document.getElementById("stats-threshold");
const allJson = document.getElementById("stats-all-json");
const totalsArea = document.getElementById("stats-totals");
const areas = {
  certificates: document.getElementById("figures-certificates"),
  credit: document.getElementById("figures-credit"),
  bundles: document.getElementById("figures-bundles"),
};

const state = { stats: null, catalogue: null, failed: false };

// ---------------------------------------------------------------------------------------------
// Values as shown
// ---------------------------------------------------------------------------------------------

/** A count as the tables and charts show it: grouped digits, a small one's "<5" as sent, or the
 * word for a count withheld to protect a small one (its value is not small: not "<5"). */
function count(value) {
  if (value === null || value === undefined) return t("common.none");
  if (withheld(value)) return value.startsWith("<") ? value : t("stats.withheld");
  return Number(value).toLocaleString(languageTag());
}

function days(value) {
  return value === null || value === undefined
    ? t("common.none")
    : t("stats.days", { days: Number(value).toLocaleString(languageTag()) });
}

/** "2026-12" in the reader's language (a UTC calendar month, as the API counts it). */
function month(text) {
  const [year, number] = String(text).split("-").map(Number);
  if (!year || !number) return String(text);
  return new Intl.DateTimeFormat(languageTag(), {
    year: "numeric",
    month: "short",
    timeZone: "UTC",
  }).format(new Date(Date.UTC(year, number - 1, 1)));
}

/** The moment of the block in China time (the service's calendar), named as such in the text. */
function chinaTime(iso) {
  const moment = new Date(iso);
  if (!iso || Number.isNaN(moment.getTime())) return t("common.none");
  return new Intl.DateTimeFormat(languageTag(), {
    dateStyle: "medium",
    timeStyle: "short",
    hourCycle: "h23",
    timeZone: "Asia/Shanghai",
  }).format(moment);
}

function province(row) {
  const name = getLanguage() === "zh" ? row.nameZh : row.nameEn || row.nameZh;
  return name || String(row.region);
}

// ---------------------------------------------------------------------------------------------
// The figures: one chart, one table and two downloads per measure
// ---------------------------------------------------------------------------------------------

/** Each figure: where it goes, its rows in the answer, the row's name, and its counted columns. */
const FIGURES = [
  {
    id: "certificates-by-month",
    area: "certificates",
    kind: "column",
    rows: (s) => s.certificates.byMonth,
    name: (row) => month(row.month),
    nameColumn: "stats.col.month",
    columns: ["anchored", "revoked"],
  },
  {
    id: "certificates-by-type",
    area: "certificates",
    rows: (s) => s.certificates.byType,
    name: (row) => typeTitle(state.catalogue, row.type),
    nameColumn: "stats.col.type",
    columns: ["anchored", "revoked", "suspended", "superseded", "expiringWithin90Days"],
  },
  {
    id: "certificates-by-province",
    area: "certificates",
    rows: (s) => s.certificates.byRegion,
    name: province,
    nameColumn: "stats.col.province",
    columns: ["anchored", "revoked"],
  },
  {
    id: "revoked-by-reason",
    area: "certificates",
    rows: (s) => s.certificates.revokedByReason,
    name: (row) => label("reason", row.reason),
    nameColumn: "stats.col.reason",
    columns: ["count"],
  },
  {
    id: "credit-by-month",
    area: "credit",
    kind: "column",
    rows: (s) => s.credit.byMonth,
    name: (row) => month(row.month),
    nameColumn: "stats.col.month",
    columns: ["events"],
  },
  {
    id: "credit-by-category",
    area: "credit",
    rows: (s) => s.credit.byCategory,
    name: (row) => categoryTitle(state.catalogue, row.category),
    nameColumn: "stats.col.category",
    columns: ["negative", "positive"],
  },
  {
    id: "credit-by-severity",
    area: "credit",
    rows: (s) => s.credit.bySeverity,
    name: (row) => t("stats.severity", { severity: row.severity }),
    nameColumn: "stats.col.severity",
    columns: ["count"],
  },
  {
    id: "disputes-by-outcome",
    area: "credit",
    rows: (s) => s.credit.disputes,
    name: (row) => label("stats.outcome", row.outcome),
    nameColumn: "stats.col.outcome",
    columns: ["count"],
  },
  {
    id: "bundles-by-lead",
    area: "bundles",
    rows: (s) => s.bundles.byLead,
    name: (row) => departmentLabel(row.department),
    nameColumn: "stats.col.department",
    columns: ["opened", "completed", "overdue"],
    extra: { key: "medianDaysToComplete", column: "stats.col.medianDays", show: days },
  },
];

/** The figure's table as text: a header row and one row per entry (what the CSV holds). */
function tableText(figure, rows) {
  const header = [t(figure.nameColumn), ...figure.columns.map((c) => t(`stats.col.${c}`))];
  if (figure.extra) header.push(t(figure.extra.column));
  const body = rows.map((row) => {
    const cells = [figure.name(row), ...figure.columns.map((c) => count(row[c]))];
    if (figure.extra) cells.push(figure.extra.show(row[figure.extra.key]));
    return cells;
  });
  return { header, body };
}

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
function csvField(text) {
  const value = String(text);
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** The CSV of a table: the cells as shown, digits ungrouped; a BOM so spreadsheets read UTF-8. */
function csv({ header, body }) {
  const ungroup = (cell) => (/^[\d,.\s\u202f]+$/.test(cell) ? cell.replace(/[,\s\u202f]/g, "") : cell);
  const lines = [header, ...body.map((cells) => cells.map(ungroup))];
  return `\ufeff${lines.map((cells) => cells.map(csvField).join(",")).join("\r\n")}\r\n`;
}

function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = el("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function fileName(figure, extension) {
  return `stats-${figure.id}-block-${state.stats.asOf.block}.${extension}`;
}

function downloads(figure, rows, text) {
  const asCsv = el("button", { type: "button", class: "btn btn-small", "data-download": "csv" });
  asCsv.textContent = t("stats.downloadCsv");
  asCsv.addEventListener("click", () =>
    download(fileName(figure, "csv"), "text/csv;charset=utf-8", csv(text)),
  );
  const asJson = el("button", { type: "button", class: "btn btn-small", "data-download": "json" });
  asJson.textContent = t("stats.downloadJson");
  asJson.addEventListener("click", () => {
    const { asOf, threshold } = state.stats;
    const document = { figure: figure.id, asOf, threshold, rows };
    download(fileName(figure, "json"), "application/json", `${JSON.stringify(document, null, 2)}\n`);
  });
  return el("p", { class: "stats-downloads" }, asCsv, asJson);
}

/** Whether a table cell's text (a count as ``count`` wrote it) stands for a withheld count. */
function shownWithheld(text) {
  return typeof text === "string" && (text.startsWith("<") || text === t("stats.withheld"));
}

function dataTable(figure, text) {
  return el(
    "div",
    { class: "table-scroll", tabindex: "0", role: "region", "aria-label": t(`stats.fig.${figure.id}`) },
    el(
      "table",
      { class: "data-table stats-table" },
      // The figure's heading names it on screen; the caption names the table for screen readers.
      el("caption", { class: "visually-hidden" }, t(`stats.fig.${figure.id}`)),
      el("thead", {}, el("tr", {}, text.header.map((name) => el("th", { scope: "col" }, name)))),
      el(
        "tbody",
        {},
        text.body.map(([first, ...cells]) =>
          el(
            "tr",
            {},
            el("th", { scope: "row" }, first),
            cells.map((cell) =>
              el("td", { class: shownWithheld(cell) ? "num withheld" : "num" }, cell),
            ),
          ),
        ),
      ),
    ),
  );
}

function legend(figure) {
  if (figure.columns.length < 2) return null;
  return el(
    "ul",
    { class: "chart-legend", "aria-hidden": "true" },
    figure.columns.map((column, index) =>
      el("li", {}, el("span", { class: `chart-key series-${index}` }), t(`stats.col.${column}`)),
    ),
  );
}

function chartLabel(figure, text) {
  const rows = text.body.map(([first, ...cells]) =>
    `${first}: ${cells.map((cell, i) => `${text.header[i + 1]} ${cell}`).join(", ")}`,
  );
  return `${t(`stats.fig.${figure.id}`)}. ${rows.join("; ")}`;
}

function drawChart(figure, rows, text, holder) {
  const width = Math.max(200, Math.floor(holder.clientWidth || 320));
  const draw = figure.kind === "column" ? columnChart : barChart;
  const groups = rows.map((row, index) => ({
    label:
      figure.extra && row[figure.extra.key] !== null && row[figure.extra.key] !== undefined
        ? `${text.body[index][0]} · ${t("stats.medianShort", { days: figure.extra.show(row[figure.extra.key]) })}`
        : text.body[index][0],
    values: figure.columns.map((column) => row[column]),
  }));
  holder.replaceChildren(
    draw({
      groups,
      series: figure.columns,
      threshold: state.stats.threshold,
      label: chartLabel(figure, text),
      width,
      format: count,
    }),
  );
}

const drawn = [];

function figureCard(figure) {
  const rows = figure.rows(state.stats) ?? [];
  const heading = el("h3", {}, t(`stats.fig.${figure.id}`));
  if (rows.length === 0) {
    return el(
      "article",
      { class: "panel stats-figure", "data-figure": figure.id },
      heading,
      el("p", { class: "empty" }, t("stats.noData")),
    );
  }
  const text = tableText(figure, rows);
  const holder = el("div", { class: "chart-holder" });
  drawn.push(() => drawChart(figure, rows, text, holder));
  // A table of more than three counts takes the figure's width, under its chart.
  const wide = figure.columns.length + (figure.extra ? 1 : 0) > 3;
  return el(
    "article",
    { class: wide ? "panel stats-figure stats-figure-wide" : "panel stats-figure", "data-figure": figure.id },
    heading,
    el(
      "div",
      { class: "stats-figure-body" },
      el("figure", { class: "stats-chart" }, legend(figure), holder),
      el("div", { class: "stats-data" }, dataTable(figure, text), downloads(figure, rows, text)),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Totals and the "as of" line
// ---------------------------------------------------------------------------------------------

const TOTALS = [
  ["certificates", ["anchored", "revoked", "suspended", "superseded", "expiringWithin90Days", "batches"]],
  ["credit", ["events", "negative", "positive", "disputed"]],
  ["bundles", ["opened", "completed", "overdue"]],
  ["window", ["consents", "checks"]],
];

function totals() {
  const groups = TOTALS.map(([part, names]) => {
    const values = part === "window" ? state.stats.window : state.stats[part]?.totals;
    if (!values) return null;
    return el(
      "div",
      { class: "stats-total-group", "data-part": part },
      el("h3", {}, t(`stats.part.${part}`)),
      el(
        "dl",
        {},
        names.map((name) =>
          el(
            "div",
            { class: withheld(values[name]) ? "stats-total withheld" : "stats-total" },
            el("dt", {}, t(`stats.total.${part}.${name}`)),
            el("dd", {}, count(values[name])),
          ),
        ),
      ),
    );
  });
  totalsArea.replaceChildren(...groups.filter(Boolean));
}

function render() {
  if (state.stats === null) {
    asOfLine.textContent = state.failed ? "" : t("stats.loading");
    thresholdLine.textContent = "";
    return;
  }
  const { asOf, threshold } = state.stats;
  asOfLine.replaceChildren(
    el("strong", {}, t("stats.asOf", { block: count(asOf.block), time: chinaTime(asOf.time) })),
  );
  thresholdLine.textContent = t("stats.threshold", { k: threshold });
  allJson.hidden = false;
  totals();
  drawn.length = 0;
  for (const [name, area] of Object.entries(areas)) {
    area.replaceChildren(...FIGURES.filter((f) => f.area === name).map(figureCard));
  }
  for (const draw of drawn) draw();
}

// ---------------------------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------------------------

async function load() {
  try {
    const [stats, catalogue] = await Promise.all([
      api("/v1/stats"),
      loadCatalogue().catch(() => null),
    ]);
    state.stats = stats;
    state.catalogue = catalogue;
    clearError(errorBox);
    if (stats.bundles?.byLead?.length) loadDepartments();
  } catch (error) {
    state.failed = true;
    showError(errorBox, error);
  } finally {
    totalsArea.removeAttribute("aria-busy");
  }
  render();
}

allJson.addEventListener("click", (event) => {
  event.preventDefault();
  if (state.stats === null) return;
  download(
    `stats-block-${state.stats.asOf.block}.json`,
    "application/json",
    `${JSON.stringify(state.stats, null, 2)}\n`,
  );
});

// Charts are drawn at their container's width: redrawn when the window's width changes.
let lastWidth = window.innerWidth;
let resizeTimer = null;
window.addEventListener("resize", () => {
  if (window.innerWidth === lastWidth) return;
  lastWidth = window.innerWidth;
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    for (const draw of drawn) draw();
  }, 150);
});

initPage("stats");
onLanguageChange(render);
onDepartmentsLoaded(render);
render();
load();
