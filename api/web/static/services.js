// The service guide (办事指南): every government service of the catalogue (GET /v1/services), what
// each asks the applicant to present as e-certificates instead of paper, filtered in the page by
// words and by who the service is for. Public: no token, nothing sent but the one request.

import {
  api,
  clearError,
  el,
  initPage,
  label,
  onLanguageChange,
  showError,
  t,
} from "./common.js";
import { getLanguage } from "./i18n.js";

const errorBox = document.getElementById("error");
const filterForm = document.getElementById("filter-form");
const queryInput = document.getElementById("service-query");
const listArea = document.getElementById("services");
const countLine = document.getElementById("service-count");
const versionLine = document.getElementById("catalogue-version");

const state = {
  /** The answer of GET /v1/services, once it came. */
  catalogue: null,
  failed: false,
};

// ---------------------------------------------------------------------------------------------
// Filtering
// ---------------------------------------------------------------------------------------------

/** Lower case, no surrounding or repeated spaces: how both the query and the texts compare. */
function normalize(text) {
  return String(text ?? "")
    .toLocaleLowerCase()
    .replace(/\s+/g, " ")
    .trim();
}

function typeTexts(types) {
  return (types ?? []).flatMap((entry) => [entry.type, entry.titleZh, entry.titleEn]);
}

/** Everything a query may match in ``service``, in both languages (a Chinese word typed on the
 *  English page still finds its service). */
function searchText(service) {
  return normalize(
    [
      service.code,
      service.titleZh,
      service.titleEn,
      service.summaryZh,
      service.summaryEn,
      ...typeTexts(service.requires),
      ...typeTexts(service.accepts),
      ...typeTexts(service.bundleParts),
    ].join("\n"),
  );
}

function currentFilter() {
  const kind = new FormData(filterForm).get("kind") || "";
  const words = normalize(queryInput.value).split(" ").filter(Boolean);
  return { kind, words };
}

function matches(service, { kind, words }) {
  if (kind && !(service.subjectKinds ?? []).includes(kind)) return false;
  const text = searchText(service);
  return words.every((word) => text.includes(word));
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

function title(entry, zh, en) {
  return (getLanguage() === "zh" ? entry[zh] : entry[en]) || entry[zh] || entry[en];
}

function typeList(types, kind) {
  return el(
    "ul",
    { class: `type-list type-list-${kind}` },
    types.map((entry) =>
      el("li", { class: "type-chip", "data-type": entry.type }, title(entry, "titleZh", "titleEn")),
    ),
  );
}

function need(kind, types) {
  if (!Array.isArray(types) || types.length === 0) return null;
  return el(
    "div",
    { class: `service-need service-need-${kind}` },
    el("dt", {}, t(`services.${kind}`)),
    el("dd", {}, typeList(types, kind)),
  );
}

function card(service) {
  const headingId = `service-${service.code}`;
  const kinds = service.subjectKinds ?? [];
  return el(
    "li",
    { class: "service-card", "data-code": service.code },
    el(
      "article",
      { "aria-labelledby": headingId },
      el("h3", { id: headingId, class: "service-title" }, title(service, "titleZh", "titleEn")),
      el(
        "p",
        { class: "service-tags" },
        el("span", { class: "visually-hidden" }, t("services.servesLabel")),
        kinds.map((kind) =>
          el("span", { class: `tag tag-${kind}`, "data-kind": kind }, label("services.kind", kind)),
        ),
        service.bundleParts?.length
          ? el("span", { class: "tag tag-bundle" }, t("services.jointTag"))
          : null,
      ),
      el("p", { class: "service-summary" }, title(service, "summaryZh", "summaryEn")),
      el(
        "dl",
        { class: "service-needs" },
        need("requires", service.requires),
        need("accepts", service.accepts),
        need("bundleParts", service.bundleParts),
      ),
    ),
  );
}

function render() {
  if (state.catalogue === null) {
    countLine.textContent = state.failed ? "" : t("services.loading");
    versionLine.textContent = "";
    return;
  }
  const services = Array.isArray(state.catalogue.services) ? state.catalogue.services : [];
  const filter = currentFilter();
  const shown = services.filter((service) => matches(service, filter));
  listArea.replaceChildren(...shown.map(card));
  if (shown.length === 0) {
    listArea.append(el("li", { class: "empty service-empty" }, t("services.noMatch")));
  }
  const filtered = filter.kind !== "" || filter.words.length > 0;
  countLine.textContent = filtered
    ? t("services.countFiltered", { shown: shown.length, total: services.length })
    : t("services.count", { total: services.length });
  versionLine.textContent = state.catalogue.version
    ? t("services.version", { version: state.catalogue.version })
    : "";
}

// ---------------------------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------------------------

async function load() {
  try {
    state.catalogue = await api("/v1/services");
    clearError(errorBox);
  } catch (error) {
    state.failed = true;
    showError(errorBox, error);
  } finally {
    listArea.removeAttribute("aria-busy");
  }
  render();
}

filterForm.addEventListener("submit", (event) => event.preventDefault());
filterForm.addEventListener("input", render);
filterForm.addEventListener("change", render);

initPage("services");
onLanguageChange(render);
render();
load();
