// The verification page: a file (dropped or chosen) or a document hash goes to POST /v1/verify,
// and the report comes back as a verdict and one row per check (docs/architecture.md). Either
// may go with the batch proof of a certificate anchored in a Merkle batch (its .proof.json file).
// A joint licensing bundle id goes to GET /v1/bundles/{id}/verification, and its parts are
// listed.

import {
  ApiError,
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
  verifyLink,
} from "./common.js";

const HASH = /^(0x)?[0-9a-fA-F]{64}$/;
const MARKS = { passed: "✓", failed: "✕", not_applicable: "–" };
/** The service's limit for a batch proof (one of 64 steps is about 4.5 KiB). */
const PROOF_MAX_BYTES = 16 * 1024;
/** A batch proof as the service hands it out: NAME.proof.json beside the file NAME. */
const PROOF_NAME = /\.proof\.json$/i;

const fileForm = document.getElementById("file-form");
const fileInput = document.getElementById("file-input");
const fileName = document.getElementById("file-name");
const dropzone = document.getElementById("dropzone");
const dropzoneText = document.getElementById("dropzone-text");
const hashForm = document.getElementById("hash-form");
const hashInput = document.getElementById("hash-input");
const hashSubmit = document.getElementById("hash-submit");
const bundleForm = document.getElementById("bundle-form");
const bundleInput = document.getElementById("bundle-input");
const errorBox = document.getElementById("error");
const verdictArea = document.getElementById("verdict");
const reportArea = document.getElementById("report");

/**
 * What is on screen, so that a language switch can redraw it. ``document`` is the file last
 * chosen (verified again when its proof changes); ``proofName`` the proof sent with the report;
 * ``ticket`` numbers the requests, so that only the latest one is shown.
 */
const state = {
  report: null,
  catalogue: null,
  chosenFile: null,
  document: null,
  proofName: null,
  pending: false,
  ticket: 0,
};

function normaliseHash(text) {
  const value = text.trim();
  if (!HASH.test(value)) return null;
  return (value.startsWith("0x") ? value : `0x${value}`).toLowerCase();
}

/** Forget the shown report: the page waits for a new one, or shows why none was asked for. */
function resetResult() {
  state.ticket += 1;
  state.pending = false;
  state.report = null;
  state.proofName = null;
  verdictArea.replaceChildren();
  reportArea.replaceChildren();
  hashSubmit.disabled = false;
  dropzone.removeAttribute("aria-busy");
}

async function run(request, proofName = null) {
  const ticket = ++state.ticket;
  clearError(errorBox);
  state.pending = true;
  state.report = null;
  state.proofName = proofName;
  reportArea.replaceChildren();
  verdictArea.replaceChildren(el("p", { class: "progress" }, t("verify.verifying")));
  hashSubmit.disabled = true;
  dropzone.setAttribute("aria-busy", "true");
  // Names the issuer once it answers (a redraw); the report never waits for it.
  loadDepartments();
  try {
    const [report, catalogue] = await Promise.all([request(), loadCatalogue().catch(() => null)]);
    if (ticket !== state.ticket) return;
    state.report = report;
    state.catalogue = catalogue;
  } catch (error) {
    if (ticket !== state.ticket) return;
    verdictArea.replaceChildren();
    // The service says "invalid_document" for a malformed proof as for a malformed certificate.
    if (
      proofName &&
      error instanceof ApiError &&
      error.code === "invalid_document" &&
      /batch proof/i.test(error.detail ?? "")
    ) {
      error.code = "invalid_proof";
    }
    showError(errorBox, error);
  } finally {
    if (ticket === state.ticket) {
      state.pending = false;
      hashSubmit.disabled = false;
      dropzone.removeAttribute("aria-busy");
      render();
    }
  }
}

/**
 * The JSON object in the proof file of ``picker``; null, with the reason shown and nothing sent,
 * when the file cannot be a batch proof (the service reads it strictly in any case).
 */
async function readProof(picker) {
  const file = picker.file;
  const ticket = state.ticket;
  let parsed = null;
  if (file.size <= PROOF_MAX_BYTES) {
    try {
      parsed = JSON.parse(await file.text());
    } catch {
      parsed = null;
    }
  }
  // Another request or another proof since: this reading no longer counts.
  if (ticket !== state.ticket || file !== picker.file) return null;
  if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) return parsed;
  resetResult();
  picker.markInvalid();
  if (file.size > PROOF_MAX_BYTES) {
    showError(errorBox, "verify.proofTooLarge");
  } else {
    showError(errorBox, "verify.proofNotJson");
  }
  return null;
}

async function verifyFile(file) {
  if (!file) return;
  state.document = file;
  state.chosenFile = file.name;
  renderChosenFile();
  const proof = fileProof.file;
  if (proof && (await readProof(fileProof)) === null) return;
  if (file !== state.document || proof !== fileProof.file) return;
  const form = new FormData();
  form.append("file", file, file.name);
  if (proof) form.append("proof", proof, proof.name);
  return run(() => api("/v1/verify", { method: "POST", form }), proof?.name ?? null);
}

async function verifyHash(documentHash) {
  state.document = null;
  state.chosenFile = null;
  renderChosenFile();
  const file = hashProof.file;
  const json = { documentHash };
  if (file) {
    const proof = await readProof(hashProof);
    if (proof === null || file !== hashProof.file) return;
    json.proof = proof;
  }
  return run(() => api("/v1/verify", { method: "POST", json }), file?.name ?? null);
}

async function verifyBundle(bundleId) {
  state.document = null;
  state.chosenFile = null;
  renderChosenFile();
  return run(() => api(`/v1/bundles/${bundleId}/verification`));
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
      t(report.documentKind === "bundle" ? "verify.bundleId" : "verify.documentHash"),
      report.documentHash ? el("code", { class: "hash" }, report.documentHash) : t("common.none"),
    ),
    ...fact(
      t("verify.documentKind"),
      label("kind", report.documentKind),
    ),
    ...fact(t("verify.checkedAt"), formatDateTime(report.checkedAt)),
    ...(state.proofName ? fact(t("verify.proofUsed"), state.proofName) : []),
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

  if (report.documentKind === "bundle" && Array.isArray(report.parts)) {
    parts.push(bundleParts(report.parts));
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

/** A bundle's parts: what each needs, the certificate filed for it and that certificate's own
 * verdict (why the bundle fails is the detail of its ``bundle.parts`` check). */
function bundleParts(items) {
  const rows = items.map((part) =>
    el(
      "tr",
      { class: "bundle-part", "data-part": part.index, "data-verdict": part.verdict ?? "" },
      el("td", {}, String(part.index)),
      el(
        "td",
        {},
        el(
          "span",
          { class: "department", "data-department": part.department },
          departmentLabel(part.department),
        ),
      ),
      el("td", {}, typeTitle(state.catalogue, part.certType)),
      el("td", {}, part.documentHash ? verifyLink(part.documentHash) : t("verify.partNotFiled")),
      el(
        "td",
        {},
        part.verdict
          ? t(part.verdict === "VALID" ? "verify.valid" : "verify.invalid")
          : t("common.none"),
      ),
    ),
  );
  return table({
    caption: t("verify.partsCaption"),
    showCaption: true,
    className: "data-table bundle-parts",
    columns: [
      t("verify.colPart"),
      t("verify.colDepartment"),
      t("verify.type"),
      t("verify.colDocument"),
      t("verify.colPartVerdict"),
    ],
    rows,
  });
}

function renderIssuer() {
  for (const node of reportArea.querySelectorAll("[data-department]")) {
    node.textContent = departmentLabel(node.dataset.department);
  }
}

// ---------------------------------------------------------------------------------------------
// Batch proofs
// ---------------------------------------------------------------------------------------------

/**
 * The optional batch proof of one form (ids ``PREFIX-input``, ``-picker``, ``-name``, ``-clear``):
 * chosen or dropped, shown by name, removable. ``onChange`` runs when it is set or removed.
 */
function proofPicker(prefix, onChange) {
  const input = document.getElementById(`${prefix}-input`);
  const area = document.getElementById(`${prefix}-picker`);
  const name = document.getElementById(`${prefix}-name`);
  const clear = document.getElementById(`${prefix}-clear`);
  const picker = {
    file: null,
    render() {
      name.textContent = picker.file
        ? t("verify.fileChosen", { name: picker.file.name })
        : t("verify.proofNone");
      clear.hidden = picker.file === null;
    },
    /** Set (or with null, remove) the proof; ``quiet`` leaves ``onChange`` out. */
    set(file, { quiet = false } = {}) {
      picker.file = file ?? null;
      input.removeAttribute("aria-invalid");
      // The file is kept here: choosing the same file again must still be a change.
      input.value = "";
      picker.render();
      if (!quiet) onChange();
    },
    markInvalid() {
      input.setAttribute("aria-invalid", "true");
    },
  };
  input.addEventListener("change", () => {
    const [file] = input.files;
    if (file) picker.set(file);
  });
  clear.addEventListener("click", () => {
    picker.set(null);
    input.focus();
  });
  for (const type of ["dragenter", "dragover"]) {
    area.addEventListener(type, (event) => {
      event.preventDefault();
      area.classList.add("dragging");
    });
  }
  area.addEventListener("dragleave", () => area.classList.remove("dragging"));
  area.addEventListener("drop", (event) => {
    event.preventDefault();
    area.classList.remove("dragging");
    const [file] = event.dataTransfer?.files ?? [];
    if (file) picker.set(file);
  });
  picker.render();
  return picker;
}

// ---------------------------------------------------------------------------------------------
// Wiring
// ---------------------------------------------------------------------------------------------

initPage("verify");

// A proof added to or removed from the chosen document verifies it again, with or without it.
const fileProof = proofPicker("file-proof", () => {
  if (state.document) verifyFile(state.document);
});
// The hash form waits for its button.
const hashProof = proofPicker("hash-proof", () => {});

onLanguageChange(() => {
  dropzoneText.textContent = t("verify.dropHint");
  fileProof.render();
  hashProof.render();
  render();
});
// Only the issuer changes: redrawing the verdict would have screen readers announce it again.
onDepartmentsLoaded(renderIssuer);

fileInput.addEventListener("change", () => {
  const [file] = fileInput.files;
  // The file is kept in the state: choosing the same file again must still be a change.
  fileInput.value = "";
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
  // A document may come with its proof (NAME and NAME.proof.json dropped together).
  const files = [...(event.dataTransfer?.files ?? [])];
  const proof = files.length > 1 ? files.find((file) => PROOF_NAME.test(file.name)) : undefined;
  const chosen = files.find((file) => file !== proof);
  if (!chosen) return;
  if (proof) fileProof.set(proof, { quiet: true });
  verifyFile(chosen);
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

bundleForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const bundleId = normaliseHash(bundleInput.value);
  if (!bundleId) {
    bundleInput.setAttribute("aria-invalid", "true");
    showError(errorBox, "verify.bundleInvalid");
    bundleInput.focus();
    return;
  }
  bundleInput.removeAttribute("aria-invalid");
  bundleInput.value = bundleId;
  verifyBundle(bundleId);
});

// Links from the other pages carry the hash in the fragment (/#0x…, a bundle /#bundle=0x…),
// which no server sees.
function verifyFromFragment() {
  const fragment = decodeURIComponent(window.location.hash.slice(1));
  if (fragment.startsWith("bundle=")) {
    const bundleId = normaliseHash(fragment.slice("bundle=".length));
    if (bundleId) {
      bundleInput.value = bundleId;
      verifyBundle(bundleId);
    }
    return;
  }
  const documentHash = normaliseHash(fragment);
  if (documentHash) {
    hashInput.value = documentHash;
    verifyHash(documentHash);
  }
}
window.addEventListener("hashchange", verifyFromFragment);
verifyFromFragment();
