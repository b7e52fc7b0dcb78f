// The verification page: a file (dropped or chosen) or a document hash goes to POST /v1/verify,
// and the report comes back as a verdict and one row per check (DESIGN section 8).

import {
  api,
  badge,
  clearError,
  departmentLabel,
  el,
  expiryText,
  formatDateTime,
  initPage,
  label,
  loadCatalogue,
  loadDepartments,
  onDepartmentsLoaded,
  onLanguageChange,
  showError,
  statusLabel,
  t,
  table,
  typeTitle,
} from "./common.js";

const HASH = /^(0x)?[0-9a-fA-F]{64}$/;
const MARKS = { passed: "✓", failed: "✕", not_applicable: "–" };

const fileForm = document.getElementById("file-form");
const fileInput = document.getElementById("file-input");
const fileName = document.getElementById("file-name");
const dropzone = document.getElementById("dropzone");
const dropzoneText = document.getElementById("dropzone-text");
const hashForm = document.getElementById("hash-form");
const hashInput = document.getElementById("hash-input");
const hashSubmit = document.getElementById("hash-submit");
const errorBox = document.getElementById("error");
const verdictArea = document.getElementById("verdict");
const reportArea = document.getElementById("report");

/** What is on screen, so that a language switch can redraw it. */
const state = { report: null, catalogue: null, chosenFile: null, pending: false };

function normaliseHash(text) {
  const value = text.trim();
  if (!HASH.test(value)) return null;
  return (value.startsWith("0x") ? value : `0x${value}`).toLowerCase();
}

async function run(request) {
  clearError(errorBox);
  state.pending = true;
  state.report = null;
  reportArea.replaceChildren();
  verdictArea.replaceChildren(el("p", { class: "progress" }, t("verify.verifying")));
  hashSubmit.disabled = true;
  dropzone.setAttribute("aria-busy", "true");
  // Names the issuer once it answers (a redraw); the report never waits for it.
  loadDepartments();
  try {
    const [report, catalogue] = await Promise.all([request(), loadCatalogue().catch(() => null)]);
    state.report = report;
    state.catalogue = catalogue;
  } catch (error) {
    verdictArea.replaceChildren();
    showError(errorBox, error);
  } finally {
    state.pending = false;
    hashSubmit.disabled = false;
    dropzone.removeAttribute("aria-busy");
    render();
  }
}

function verifyFile(file) {
  if (!file) return;
  state.chosenFile = file.name;
  renderChosenFile();
  const form = new FormData();
  form.append("file", file, file.name);
  return run(() => api("/v1/verify", { method: "POST", form }));
}

function verifyHash(documentHash) {
  state.chosenFile = null;
  renderChosenFile();
  return run(() => api("/v1/verify", { method: "POST", json: { documentHash } }));
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

function renderChosenFile() {
  fileName.textContent = state.chosenFile ? t("verify.fileChosen", { name: state.chosenFile }) : "";
}

function fact(term, ...value) {
  return [el("dt", {}, term), el("dd", {}, ...value)];
}

function render() {
  renderChosenFile();
  const report = state.report;
  if (state.pending || !report) return;
  const counts = { passed: 0, failed: 0, not_applicable: 0 };
  for (const check of report.checks) counts[check.outcome] = (counts[check.outcome] ?? 0) + 1;
  const valid = report.verdict === "VALID";
  const summary = t(valid ? "verify.summaryValid" : "verify.summaryInvalid", {
    passed: counts.passed,
    failed: counts.failed,
    na: counts.not_applicable,
  });

  verdictArea.replaceChildren(
    el(
      "div",
      {
        class: `verdict ${valid ? "verdict-valid" : "verdict-invalid"}`,
        id: "verdict-banner",
        "data-verdict": report.verdict,
      },
      el("span", { class: "verdict-mark", "aria-hidden": "true" }, valid ? "✓" : "✕"),
      el(
        "div",
        { class: "verdict-text" },
        el(
          "p",
          { class: "verdict-word" },
          t(valid ? "verify.valid" : "verify.invalid"),
          " ",
          el("span", { class: "verdict-code", lang: "en" }, report.verdict),
        ),
        el("p", { class: "verdict-summary" }, summary),
      ),
    ),
  );

  const facts = [
    ...fact(
      t("verify.documentHash"),
      report.documentHash ? el("code", { class: "hash" }, report.documentHash) : t("common.none"),
    ),
    ...fact(
      t("verify.documentKind"),
      label("kind", report.documentKind),
    ),
    ...fact(t("verify.checkedAt"), formatDateTime(report.checkedAt)),
  ];

  const parts = [el("dl", { class: "facts" }, facts)];

  const record = report.record;
  if (record) {
    parts.push(
      el(
        "section",
        { class: "record", "aria-labelledby": "record-heading" },
        el("h3", { id: "record-heading" }, t("verify.recordHeading")),
        el(
          "dl",
          { class: "facts" },
          ...fact(
            t("verify.issuer"),
            el(
              "span",
              { class: "department", "data-department": record.issuer },
              departmentLabel(record.issuer),
            ),
          ),
          ...fact(t("verify.type"), typeTitle(state.catalogue, record.certType)),
          ...fact(t("verify.region"), String(record.region)),
          ...fact(t("verify.anchoredAt"), formatDateTime(record.anchoredAt)),
          ...fact(t("verify.anchoredBlock"), String(record.anchoredBlock)),
          ...fact(t("verify.expiresAt"), expiryText(record.expiresAt)),
          ...fact(t("verify.status"), badge("status", record.status, statusLabel(record.status))),
        ),
      ),
    );
  }

  const rows = report.checks.map((check) =>
    el(
      "tr",
      {
        class: `check check-${check.outcome}`,
        "data-check": check.name,
        "data-outcome": check.outcome,
      },
      el(
        "td",
        { class: "check-outcome" },
        el(
          "span",
          { class: `mark mark-${check.outcome}`, "aria-hidden": "true" },
          MARKS[check.outcome],
        ),
        el("span", { class: "mark-label" }, label("outcome", check.outcome)),
      ),
      el(
        "td",
        { class: "check-name" },
        el("span", {}, label("check", check.name)),
        el("code", { class: "check-id" }, check.name),
      ),
      el("td", { class: "check-detail", lang: "en" }, check.detail),
    ),
  );
  parts.push(
    table({
      caption: t("verify.checksCaption"),
      showCaption: true,
      className: "data-table checks",
      columns: [t("verify.colOutcome"), t("verify.colCheck"), t("verify.colDetail")],
      rows,
    }),
  );
  reportArea.replaceChildren(...parts);
}

function renderIssuer() {
  for (const node of reportArea.querySelectorAll("[data-department]")) {
    node.textContent = departmentLabel(node.dataset.department);
  }
}

// ---------------------------------------------------------------------------------------------
// Wiring
// ---------------------------------------------------------------------------------------------

initPage("verify");
onLanguageChange(() => {
  dropzoneText.textContent = t("verify.dropHint");
  render();
});
// Only the issuer changes: redrawing the verdict would have screen readers announce it again.
onDepartmentsLoaded(renderIssuer);

fileInput.addEventListener("change", () => {
  const [file] = fileInput.files;
  verifyFile(file);
});

fileForm.addEventListener("submit", (event) => event.preventDefault());

for (const type of ["dragenter", "dragover"]) {
  dropzone.addEventListener(type, (event) => {
    event.preventDefault();
    dropzone.classList.add("dragging");
    dropzoneText.textContent = t("verify.dropActive");
  });
}
dropzone.addEventListener("dragleave", () => {
  dropzone.classList.remove("dragging");
  dropzoneText.textContent = t("verify.dropHint");
});
dropzone.addEventListener("drop", (event) => {
  event.preventDefault();
  dropzone.classList.remove("dragging");
  dropzoneText.textContent = t("verify.dropHint");
  const [file] = event.dataTransfer?.files ?? [];
  verifyFile(file);
});
// A file dropped beside the zone must not make the browser open it in place of the page.
for (const type of ["dragover", "drop"]) {
  window.addEventListener(type, (event) => event.preventDefault());
}

hashForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const documentHash = normaliseHash(hashInput.value);
  if (!documentHash) {
    hashInput.setAttribute("aria-invalid", "true");
    showError(errorBox, "verify.hashInvalid");
    hashInput.focus();
    return;
  }
  hashInput.removeAttribute("aria-invalid");
  hashInput.value = documentHash;
  verifyHash(documentHash);
});

// Links from the other pages carry the hash in the fragment (/#0x…), which no server sees.
function verifyFromFragment() {
  const documentHash = normaliseHash(decodeURIComponent(window.location.hash.slice(1)));
  if (documentHash) {
    hashInput.value = documentHash;
    verifyHash(documentHash);
  }
}
window.addEventListener("hashchange", verifyFromFragment);
verifyFromFragment();
