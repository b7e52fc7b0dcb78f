// Shared by the pages: the API client, problem+json errors, the header and language switch,
// the catalogue, and small DOM and formatting helpers. No markup is ever built from strings: all
// text goes in through textContent, so nothing the API or the user sends can become HTML.

import { getLanguage, has, languageTag, setLanguage, t, translateDocument } from "./i18n.js";

export { t } from "./i18n.js";

// ---------------------------------------------------------------------------------------------
// API client
// ---------------------------------------------------------------------------------------------

/** An error answer of the API (a problem document), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code ?? null;
    this.title = problem?.title ?? null;
    this.detail = problem?.detail ?? null;
    this.errors = Array.isArray(problem?.errors) ? problem.errors : [];
    this.retryAfter = retryAfter ?? null;
  }
}

/**
 * Call the API. ``json`` is sent as application/json, ``form`` (FormData) as multipart.
 * Credentials are only ever a bearer token from sessionStorage: no cookies are sent.
 */
export async function api(path, { method = "GET", token = null, json, form } = {}) {
  const headers = { Accept: "application/json, application/problem+json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body,
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
    });
  } catch {
    throw new ApiError(0, { code: "network" });
  }
  const type = response.headers.get("content-type") || "";
  let payload = null;
  if (type.includes("json")) {
    try {
      payload = await response.json();
    } catch {
      payload = null;
    }
  }
  if (!response.ok) {
    throw new ApiError(response.status, payload ?? {}, response.headers.get("retry-after"));
  }
  return payload;
}

// ---------------------------------------------------------------------------------------------
// Privacy
// ---------------------------------------------------------------------------------------------

// An 18-character citizen identity number or unified social credit code standing on its own
// (not part of a longer run such as a hash). The API never sends one; this is a second guard.
const USCC_CHARACTER = "[0-9A-HJ-NPQRTUWXY]";
const IDENTIFIER = new RegExp(
  "(?<![0-9A-Za-z])" +
    `(?:\\d{17}[\\dXx]|${USCC_CHARACTER}{2}\\d{6}${USCC_CHARACTER}{10})` +
    "(?![0-9A-Za-z])",
  "g",
);

/** ``text`` with anything shaped like an identity number or credit code masked. */
export function redact(text) {
  return String(text ?? "").replace(IDENTIFIER, "•".repeat(18));
}

// ---------------------------------------------------------------------------------------------
// Errors shown to the user
// ---------------------------------------------------------------------------------------------

/**
 * The Solidity error a contract refused a write with, as the service names it at the end of a
 * problem's detail ("… [AccreditationNotIssuer: …]", ledger/errors.py ContractError); else null.
 */
const CONTRACT_ERROR = /\[([A-Z][A-Za-z0-9]*)(?::[^\]]*)?\]\s*$/;

export function contractErrorName(detail) {
  return CONTRACT_ERROR.exec(String(detail ?? ""))?.[1] ?? null;
}

/** A field of a problem's ``errors`` as the pages name it (the API's member name otherwise). */
function fieldName(name) {
  return has(`field.${name}`) ? t(`field.${name}`) : String(name);
}

/**
 * A headline and an optional detail line for ``error``, in the current language only.
 *
 * The headline comes from the problem's stable ``code`` (then its status, then a generic line),
 * never from its text. The service's ``detail`` is English and may name a contract's error: a
 * contract's refusal is shown by its translated reason, and other details only on English pages.
 */
export function describeError(error) {
  if (!(error instanceof ApiError)) {
    return { headline: t("error.unexpected"), detail: null };
  }
  let headline;
  if (error.code === "too_many_requests" && error.retryAfter) {
    headline = t("error.too_many_requestsRetry", { seconds: error.retryAfter });
  } else if (error.code && has(`error.${error.code}`)) {
    headline = t(`error.${error.code}`);
  } else if (has(`error.status.${error.status}`)) {
    headline = t(`error.status.${error.status}`);
  } else {
    headline = t("error.generic", { status: error.status });
  }
  const lines = [];
  const contractError = contractErrorName(error.detail);
  if (contractError) {
    if (has(`contract.${contractError}`)) lines.push(t(`contract.${contractError}`));
  } else if (error.detail && error.code !== "network" && getLanguage() === "en") {
    lines.push(redact(error.detail));
  }
  const fields = error.errors
    .map((item) => (Array.isArray(item.loc) ? item.loc.filter((part) => part !== "body") : []))
    .filter((loc) => loc.length > 0)
    .map((loc) => loc.map(fieldName).join(" › "));
  if (fields.length > 0) lines.push(t("error.fields", { fields: [...new Set(fields)].join(", ") }));
  return { headline, detail: lines.length > 0 ? lines.join(" ") : null };
}

/** Show ``error`` (an ApiError, another Error, or a dictionary key) in the error box ``box``. */
export function showError(box, error) {
  const { headline, detail } =
    typeof error === "string" ? { headline: t(error), detail: null } : describeError(error);
  box.replaceChildren(
    el("p", { class: "error-title" }, headline),
    ...(detail ? [el("p", { class: "error-detail" }, detail)] : []),
  );
  box.hidden = false;
  // The box is at the top of the page; the form that failed may be far below it.
  box.scrollIntoView({ block: "nearest" });
  if (typeof error !== "string" && !(error instanceof ApiError)) console.error(error);
}

export function clearError(box) {
  box.hidden = true;
  box.replaceChildren();
}

// ---------------------------------------------------------------------------------------------
// DOM helpers
// ---------------------------------------------------------------------------------------------

/** Create an element: attributes (class, data-*, aria-*, …; booleans toggle) and children. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** A table with a caption (visually hidden unless ``showCaption``), header row and body rows. */
export function table({ caption, columns, rows, className = "data-table", showCaption = false }) {
  return el(
    "div",
    { class: "table-scroll", tabindex: "0", role: "region", "aria-label": caption },
    el(
      "table",
      { class: className },
      el("caption", { class: showCaption ? null : "visually-hidden" }, caption),
      el("thead", {}, el("tr", {}, columns.map((name) => el("th", { scope: "col" }, name)))),
      el("tbody", {}, rows),
    ),
  );
}

/** Mark ``button`` busy (disabled, aria-busy) while ``work`` runs. */
/**
 * Wire a "paste a token" form: an empty field is refused with ``missingKey``; otherwise ``start``
 * runs with the token while the button is busy, and the field is cleared once it succeeds.
 */
export function bindTokenForm({ form, input, submit, errorBox, missingKey, before, start, fail }) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(errorBox);
    before();
    const token = input.value.trim();
    if (!token) {
      showError(errorBox, missingKey);
      input.focus();
      return;
    }
    await busy(submit, async () => {
      try {
        if (await start(token)) input.value = "";
      } catch (error) {
        fail(error);
      }
    });
  });
}

export async function busy(button, work) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

// ---------------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------------

/** The service's calendar: a date "valid through 31 December" ends at midnight China time. */
const SERVICE_TIME_ZONE = "Asia/Shanghai";

/** A moment from the API (ISO 8601), in the reader's language and time zone (which is named). */
export function formatDateTime(iso) {
  if (!iso) return t("common.none");
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return String(iso);
  return new Intl.DateTimeFormat(languageTag(), {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZoneName: "short",
  }).format(moment);
}

/**
 * A calendar date (occurrence, expiry), in China time as the service defines days. An expiry is
 * the first moment no longer valid: the date shown is the last day still valid.
 */
export function formatDate(iso, { expiry = false } = {}) {
  if (!iso) return t("common.none");
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return String(iso);
  const shown = expiry ? new Date(moment.getTime() - 1) : moment;
  return new Intl.DateTimeFormat(languageTag(), {
    dateStyle: "medium",
    timeZone: SERVICE_TIME_ZONE,
  }).format(shown);
}

/** The last valid day of an expiry, or "no expiry". */
export function expiryText(iso) {
  return iso ? formatDate(iso, { expiry: true }) : t("verify.noExpiry");
}

/** ``0x1234…abcd``: a hash shortened for tables (the full value goes in a title). */
export function shortHash(hash) {
  const text = String(hash ?? "");
  return text.length > 18 ? `${text.slice(0, 10)}…${text.slice(-6)}` : text;
}

/** A link to the verification page for ``hash`` (in the fragment: it never reaches a server). */
export function verifyLink(hash, { short = true } = {}) {
  return el(
    "a",
    {
      href: `/#${hash}`,
      class: "hash-link",
      title: hash,
      "aria-label": t("common.verifyLinkLabel", { hash }),
    },
    el("code", {}, short ? shortHash(hash) : hash),
  );
}

/** A status badge (certificate status, amendment state, check outcome). */
export function badge(kind, value, label) {
  return el("span", { class: `badge badge-${kind}-${value}`, "data-state": value }, label);
}

/** The translation of a value the API sends (``outcome.passed``), or the value itself. */
export function label(prefix, value) {
  if (value === null || value === undefined) return t("common.none");
  const key = `${prefix}.${value}`;
  return has(key) ? t(key) : String(value);
}

export function statusLabel(status) {
  return status ? label("status", status) : t("status.unknown");
}

export function reasonLabel(reason) {
  return label("reason", reason);
}

// ---------------------------------------------------------------------------------------------
// Catalogue (certificate types, credit categories, reasons)
// ---------------------------------------------------------------------------------------------

let cataloguePromise = null;

/** ``GET /v1/catalogue``, fetched once per page. */
export function loadCatalogue() {
  if (cataloguePromise === null) {
    cataloguePromise = api("/v1/catalogue").catch((error) => {
      cataloguePromise = null;
      throw error;
    });
  }
  return cataloguePromise;
}

function findEntry(entries, value) {
  if (!Array.isArray(entries) || value === null || value === undefined) return null;
  return (
    entries.find(
      (entry) =>
        entry.name === value || entry.code === value || String(entry.code) === String(value),
    ) ?? null
  );
}

function entryTitle(entry, fallback) {
  if (!entry) return String(fallback ?? t("common.none"));
  return (getLanguage() === "zh" ? entry.titleZh : entry.titleEn) || entry.name;
}

/** The title of a certificate type given by name or code. */
export function typeTitle(catalogue, value) {
  return entryTitle(findEntry(catalogue?.certificateTypes, value), value);
}

/** The title of a credit category given by name or code. */
export function categoryTitle(catalogue, value) {
  return entryTitle(findEntry(catalogue?.creditCategories, value), value);
}

export function catalogueEntry(entries, value) {
  return findEntry(entries, value);
}

// ---------------------------------------------------------------------------------------------
// Departments (official names)
// ---------------------------------------------------------------------------------------------

let departmentsPromise = null;
/** Department id → its entry of ``GET /v1/departments``, once that answered; else null. */
let departmentsById = null;
const departmentRenderers = [];

/** Register a function that redraws dynamic content once the departments' names arrive. */
export function onDepartmentsLoaded(render) {
  departmentRenderers.push(render);
}

/**
 * Seconds before each new attempt at ``GET /v1/departments`` after a failure that may pass (no
 * answer, 408, 429, 5xx); a longer ``Retry-After`` wins. A list that failed once used to stay
 * missing for the page's lifetime, so issuers showed by number (a busy or rate-limited service).
 */
const DEPARTMENTS_RETRY_SECONDS = [1, 3, 10];

function mayPass(error) {
  const status = error instanceof ApiError ? error.status : 0;
  return status === 0 || status === 408 || status === 429 || status >= 500;
}

async function fetchDepartments() {
  for (let attempt = 0; ; attempt += 1) {
    try {
      const answer = await api("/v1/departments");
      const items = Array.isArray(answer?.items) ? answer.items : [];
      departmentsById = new Map(items.map((item) => [Number(item.id), item]));
      return departmentsById;
    } catch (error) {
      if (!mayPass(error) || attempt >= DEPARTMENTS_RETRY_SECONDS.length) return null;
      const wait = Math.max(DEPARTMENTS_RETRY_SECONDS[attempt], Number(error.retryAfter) || 0);
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
    }
  }
}

/**
 * ``GET /v1/departments``, fetched once per page load (retried while it fails in a way that may
 * pass), the first time a page needs a name. Never rejects: until it answers, and if it never
 * does, departments show by number. Pages render without waiting for it and redraw
 * (``onDepartmentsLoaded``) when it answers, whenever that is.
 */
export function loadDepartments() {
  if (departmentsPromise === null) {
    departmentsPromise = fetchDepartments();
    departmentsPromise.then((found) => {
      if (found) for (const render of departmentRenderers) render();
    });
  }
  return departmentsPromise;
}

/** The official name of department ``id``, when ``GET /v1/departments`` gave one; else null. */
export function departmentName(id) {
  const name = departmentsById?.get(Number(id))?.name;
  return typeof name === "string" && name.trim() !== "" ? name.trim() : null;
}

/**
 * Department ``id`` as the pages show it: "东城区市场监督管理局（110101）" when its name is known,
 * else "部门 3", or "部门 3（行政区划 110101）" when ``region`` is given.
 */
export function departmentLabel(id, region = null) {
  const name = departmentName(id);
  if (name) {
    const code = departmentsById.get(Number(id)).region ?? region;
    return code ? t("common.departmentNamed", { name, region: code }) : name;
  }
  return region ? t("common.departmentRegion", { id, region }) : t("common.department", { id });
}

// ---------------------------------------------------------------------------------------------
// Session storage (bearer tokens: this tab only, never localStorage, never the URL)
// ---------------------------------------------------------------------------------------------

export function readToken(key) {
  try {
    return window.sessionStorage.getItem(key);
  } catch {
    return null;
  }
}

export function storeToken(key, token) {
  try {
    window.sessionStorage.setItem(key, token);
  } catch {
    // Without sessionStorage the token lives in memory only, for this page.
  }
}

export function forgetToken(key) {
  try {
    window.sessionStorage.removeItem(key);
  } catch {
    // Nothing stored.
  }
}

// ---------------------------------------------------------------------------------------------
// Page setup
// ---------------------------------------------------------------------------------------------

const renderers = [];

/** Register a function that redraws dynamic content after a language switch. */
export function onLanguageChange(render) {
  renderers.push(render);
}

/** Translate the page, mark the current navigation link and wire the language switch. */
export function initPage(name) {
  translateDocument();
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === name) link.setAttribute("aria-current", "page");
  }
  const toggle = document.getElementById("lang-toggle");
  const labelToggle = () => {
    // The button is written in the language it switches to.
    toggle.lang = getLanguage() === "zh" ? "en" : "zh-CN";
  };
  labelToggle();
  toggle.addEventListener("click", () => {
    setLanguage(getLanguage() === "zh" ? "en" : "zh");
    translateDocument();
    labelToggle();
    for (const render of renderers) render();
  });
  document.body.classList.add("ready");
}
