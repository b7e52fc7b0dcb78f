// The department console: with the department's API token (kept in sessionStorage only), anchor
// a certificate, revoke one, record a credit event and page through the department's
// certificates. Identity numbers typed for a holder or subject are cleared once the write
// succeeds and are never written anywhere else on the page. Evidence files are fingerprinted
// here, in the browser (keccak256, the ledger's file rule): they are never uploaded.

// js-sha3 0.8.0 (MIT), vendored unchanged from the locked npm tree (ADR 0022): sets keccak256.
import "./vendor/js-sha3-0.8.0.min.js";
import {
  api,
  bindTokenForm,
  badge,
  busy,
  catalogueEntry,
  categoryTitle,
  clearError,
  departmentName,
  el,
  forgetToken,
  expiryText,
  formatDateTime,
  initPage,
  loadCatalogue,
  loadDepartments,
  onDepartmentsLoaded,
  onLanguageChange,
  readToken,
  reasonLabel,
  showError,
  statusLabel,
  storeToken,
  t,
  table,
  typeTitle,
  verifyLink,
} from "./common.js";
import { windowPart } from "./window.js";

const TOKEN_KEY = "ledger.departmentToken";
const HASH = /^(0x)?[0-9a-fA-F]{64}$/;
const PAGE_SIZE = 20;

const $ = (id) => document.getElementById(id);
const errorBox = $("error");
const statusBox = $("status");
const connectSection = $("connect");
const workspace = $("workspace");
const tokenForm = $("token-form");
const tokenInput = $("token-input");
const tokenSubmit = $("token-submit");
const anchorForm = $("anchor-form");
const anchorFile = $("anchor-file");
const anchorFileName = $("anchor-file-name");
const anchorType = $("anchor-type");
const anchorSubject = $("anchor-subject");
const anchorExpires = $("anchor-expires");
const anchorStore = $("anchor-store");
const anchorSubmit = $("anchor-submit");
const anchorResult = $("anchor-result");
const revokeForm = $("revoke-form");
const revokeHash = $("revoke-hash");
const revokeReason = $("revoke-reason");
const revokeReasonError = $("revoke-reason-error");
const revokeSubmit = $("revoke-submit");
const revokeResult = $("revoke-result");
const creditForm = $("credit-form");
const creditSubject = $("credit-subject");
const creditCategory = $("credit-category");
const creditPolarity = $("credit-polarity");
const creditSeverity = $("credit-severity");
const creditOccurred = $("credit-occurred");
const creditEvidence = $("credit-evidence");
const creditEvidenceName = $("credit-evidence-name");
const creditEvidenceHash = $("credit-evidence-hash");
const creditSubmit = $("credit-submit");
const creditResult = $("credit-result");
const listArea = $("list");
const listCount = $("list-count");
const listMore = $("list-more");
const listRefresh = $("list-refresh");
const revokeDialog = $("revoke-dialog");
const revokeConfirmForm = $("revoke-confirm-form");
const revokeFacts = $("revoke-dialog-facts");
const revokeCancel = $("revoke-cancel");

const state = {
  token: readToken(TOKEN_KEY),
  who: null,
  catalogue: null,
  items: [],
  nextCursor: null,
  listLoaded: false,
  /** The last outcome of each form, redrawn after a language switch. */
  anchored: null,
  revoked: null,
  recorded: null,
  message: null,
  /**
   * The evidence file chosen for the credit form: ``{file, hash, error, done}`` where ``done``
   * settles when its fingerprint is known (``hash``) or cannot be (``error``, a dictionary key).
   */
  evidence: null,
  /** Whether the credit form was sent without evidence (said beside the field until chosen). */
  evidenceMissing: false,
  /** The revocation waiting for confirmation in the dialog: ``{documentHash, reason}``. */
  revoking: null,
};

// ---------------------------------------------------------------------------------------------
// Evidence fingerprints (ledger/documents/digests.py: a file's hash is keccak256 of its bytes)
// ---------------------------------------------------------------------------------------------

const JSON_WHITESPACE = new Set([0x20, 0x09, 0x0d, 0x0a]);
const CERTIFICATE_MARKER = new TextEncoder().encode('"gov-ledger/cert/');

function contains(bytes, needle) {
  outer: for (let start = 0; start <= bytes.length - needle.length; start += 1) {
    for (let offset = 0; offset < needle.length; offset += 1) {
      if (bytes[start + offset] !== needle[offset]) continue outer;
    }
    return true;
  }
  return false;
}

/**
 * Whether ``bytes`` are a structured certificate for the ledger's rule (a JSON object naming a
 * certificate version), whose hash is not that of its bytes: this page does not compute it.
 */
function looksLikeCertificate(bytes) {
  let first = 0;
  while (first < bytes.length && JSON_WHITESPACE.has(bytes[first])) first += 1;
  return bytes[first] === 0x7b && contains(bytes, CERTIFICATE_MARKER);
}

/** ``0x`` + keccak256 of ``file``'s bytes, read in the browser; throws a dictionary key. */
async function fingerprint(file) {
  let bytes;
  try {
    bytes = new Uint8Array(await file.arrayBuffer());
  } catch {
    throw "console.evidenceUnreadable";
  }
  if (looksLikeCertificate(bytes)) throw "console.evidenceCertificate";
  return `0x${window.keccak256(bytes)}`;
}

function chooseEvidence(file) {
  if (file) state.evidenceMissing = false;
  if (!file) {
    state.evidence = null;
    renderEvidence();
    return;
  }
  const evidence = { file, hash: null, error: null, done: null };
  evidence.done = fingerprint(file).then(
    (hash) => {
      evidence.hash = hash;
    },
    (key) => {
      evidence.error = typeof key === "string" ? key : "console.evidenceUnreadable";
    },
  );
  state.evidence = evidence;
  renderEvidence();
  evidence.done.then(() => {
    if (state.evidence === evidence) renderEvidence();
  });
}

function normaliseHash(text) {
  const value = text.trim();
  if (!HASH.test(value)) return null;
  return (value.startsWith("0x") ? value : `0x${value}`).toLowerCase();
}

/** Today's local calendar date, ``YYYY-MM-DD``: the default occurrence date. */
function today() {
  const now = new Date();
  return [
    now.getFullYear(),
    String(now.getMonth() + 1).padStart(2, "0"),
    String(now.getDate()).padStart(2, "0"),
  ].join("-");
}

function setMessage(key) {
  state.message = key;
  statusBox.textContent = key ? t(key) : "";
}

// ---------------------------------------------------------------------------------------------
// Session
// ---------------------------------------------------------------------------------------------

function disconnect(messageKey = null) {
  forgetToken(TOKEN_KEY);
  Object.assign(state, {
    token: null,
    who: null,
    items: [],
    nextCursor: null,
    listLoaded: false,
    anchored: null,
    revoked: null,
    recorded: null,
  });
  for (const form of [anchorForm, revokeForm, creditForm]) form.reset();
  windowDesk.reset();
  if (revokeDialog.open) revokeDialog.close();
  state.evidence = null;
  state.evidenceMissing = false;
  state.revoking = null;
  markReason(true);
  renderChosenFile();
  renderEvidence();
  for (const area of [anchorResult, revokeResult, creditResult, listArea, listCount]) {
    area.replaceChildren();
  }
  listMore.hidden = true;
  workspace.hidden = true;
  connectSection.hidden = false;
  setMessage(messageKey);
}

/** Show ``error`` in the error box; a refused token ends the session. */
function fail(error) {
  if (error?.status === 401) disconnect();
  showError(errorBox, error);
}

async function connect(token) {
  state.token = token;
  // Names the department once it answers (a redraw of the header); nothing waits for it.
  loadDepartments();
  const [who, catalogue] = await Promise.all([
    api("/v1/whoami", { token }),
    loadCatalogue().catch(() => null),
  ]);
  if (who?.role !== "department") {
    disconnect();
    showError(errorBox, "console.notDepartment");
    return false;
  }
  storeToken(TOKEN_KEY, token);
  Object.assign(state, { who, catalogue });
  connectSection.hidden = true;
  workspace.hidden = false;
  renderDepartment();
  fillSelects();
  if (!creditOccurred.value) creditOccurred.value = today();
  await loadList(true);
  return true;
}

// ---------------------------------------------------------------------------------------------
// The department and its choices
// ---------------------------------------------------------------------------------------------

function scopeTitle(scope) {
  const catalogue = state.catalogue;
  if (catalogueEntry(catalogue?.certificateTypes, scope)) return typeTitle(catalogue, scope);
  if (catalogueEntry(catalogue?.creditCategories, scope)) return categoryTitle(catalogue, scope);
  return String(scope);
}

function renderDepartment() {
  const who = state.who;
  if (!who) return;
  const name = who.departmentId ? departmentName(who.departmentId) : null;
  $("department-id").replaceChildren(
    ...(name
      ? [
          el("span", { class: "department-name", id: "department-name" }, name),
          el(
            "span",
            { class: "department-number" },
            t("console.departmentNumber", { id: who.departmentId }),
          ),
        ]
      : [String(who.departmentId ?? t("common.none"))]),
  );
  $("department-region").textContent = String(who.region ?? t("common.none"));
  const scopes = who.scopes ?? [];
  $("department-scopes").replaceChildren(
    el(
      "span",
      { class: "chips" },
      scopes.length === 0
        ? t("common.none")
        : scopes.map((scope) =>
            el("span", { class: "chip", "data-scope": scope }, scopeTitle(scope)),
          ),
    ),
  );
  $("suspended").hidden = who.suspended !== true;
}

/** Replace the options of ``select`` and keep the current choice when it is still offered. */
function setOptions(select, options, emptyKey) {
  const previous = select.value;
  if (options.length === 0) {
    select.replaceChildren(el("option", { value: "" }, t(emptyKey)));
    select.disabled = true;
    return;
  }
  select.disabled = false;
  select.replaceChildren(
    ...options.map(([value, text]) =>
      el("option", { value, selected: value === previous }, text),
    ),
  );
}

function fillSelects() {
  const catalogue = state.catalogue;
  const scopes = new Set((state.who?.scopes ?? []).map(String));
  const inScope = (entry) => scopes.has(entry.name) || scopes.has(String(entry.code));
  setOptions(
    anchorType,
    (catalogue?.certificateTypes ?? [])
      .filter(inScope)
      .map((entry) => [entry.name, typeTitle(catalogue, entry.name)]),
    "console.noTypes",
  );
  setOptions(
    creditCategory,
    (catalogue?.creditCategories ?? [])
      .filter(inScope)
      .map((entry) => [entry.name, categoryTitle(catalogue, entry.name)]),
    "console.noCategories",
  );
  // No reason is preselected: the department must choose one (the empty first option).
  const reasons = (catalogue?.reasons ?? []).map((reason) => [reason, reasonLabel(reason)]);
  setOptions(
    revokeReason,
    reasons.length > 0 ? [["", t("console.reasonPlaceholder")], ...reasons] : [],
    "common.none",
  );
}

// ---------------------------------------------------------------------------------------------
// Outcomes
// ---------------------------------------------------------------------------------------------

function renderChosenFile() {
  const [file] = anchorFile.files;
  anchorFileName.textContent = file ? file.name : t("console.noFile");
}

function renderEvidence() {
  const evidence = state.evidence;
  creditEvidenceName.textContent = evidence ? evidence.file.name : t("console.evidenceNone");
  const invalid = evidence ? Boolean(evidence.error) : state.evidenceMissing;
  creditEvidence.toggleAttribute("aria-invalid", invalid);
  if (!evidence) {
    creditEvidenceHash.replaceChildren(
      ...(invalid ? [el("span", { class: "field-error" }, t("console.evidenceMissing"))] : []),
    );
  } else if (evidence.error) {
    creditEvidenceHash.replaceChildren(el("span", { class: "field-error" }, t(evidence.error)));
  } else if (!evidence.hash) {
    creditEvidenceHash.replaceChildren(t("console.evidenceHashing"));
  } else {
    creditEvidenceHash.replaceChildren(
      el("span", { class: "evidence-label" }, t("console.evidenceFingerprint")),
      " ",
      el("code", { class: "hash", id: "credit-evidence-fingerprint" }, evidence.hash),
    );
  }
}

function renderAnchored() {
  const outcome = state.anchored;
  if (!outcome) {
    anchorResult.replaceChildren();
    return;
  }
  anchorResult.replaceChildren(
    el("p", {}, t("console.anchored")),
    el("code", { id: "anchored-hash", class: "hash" }, outcome.documentHash),
    el(
      "p",
      { class: "hint" },
      typeTitle(state.catalogue, outcome.type),
      " · ",
      t("console.anchoredBlock", { block: outcome.blockNumber }),
      " · ",
      el("a", { href: `/#${outcome.documentHash}`, id: "anchored-verify" }, t("common.verifyLink")),
    ),
  );
}

function renderRevoked() {
  const record = state.revoked;
  revokeResult.replaceChildren(
    ...(record
      ? [
          el(
            "p",
            { "data-status": record.status },
            t("console.revoked", { status: statusLabel(record.status) }),
          ),
          el("code", { class: "hash" }, record.documentHash),
        ]
      : []),
  );
}

function renderRecorded() {
  const recorded = state.recorded;
  creditResult.replaceChildren(
    ...(recorded
      ? [
          el(
            "p",
            { "data-event": recorded.eventId },
            t("console.recorded", { block: recorded.blockNumber }),
          ),
          el("code", { class: "hash" }, recorded.eventId),
        ]
      : []),
  );
}

// ---------------------------------------------------------------------------------------------
// The department's certificates
// ---------------------------------------------------------------------------------------------

async function loadList(fresh) {
  const who = state.who;
  if (!who) return;
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (!fresh && state.nextCursor) query.set("cursor", state.nextCursor);
  listArea.setAttribute("aria-busy", "true");
  try {
    const page = await api(
      `/v1/departments/${encodeURIComponent(who.departmentId)}/certificates?${query}`,
      { token: state.token },
    );
    state.items = fresh ? page.items : [...state.items, ...page.items];
    state.nextCursor = page.nextCursor ?? null;
    state.listLoaded = true;
  } finally {
    listArea.setAttribute("aria-busy", "false");
  }
  renderList();
}

function renderList() {
  if (!state.listLoaded) return;
  listMore.hidden = !state.nextCursor;
  if (state.items.length === 0) {
    listArea.replaceChildren(el("p", { class: "empty" }, t("console.listEmpty")));
    listCount.textContent = "";
    return;
  }
  const rows = state.items.map((item) => {
    const revocable = item.status === "active" || item.status === "suspended";
    return el(
      "tr",
      { "data-hash": item.documentHash, "data-status": item.status },
      el("td", {}, verifyLink(item.documentHash)),
      el("td", {}, typeTitle(state.catalogue, item.type)),
      el("td", {}, badge("status", item.status, statusLabel(item.status))),
      el("td", {}, formatDateTime(item.anchoredAt)),
      el("td", {}, expiryText(item.expiresAt)),
      el(
        "td",
        {},
        revocable
          ? el(
              "button",
              {
                type: "button",
                class: "btn btn-small btn-danger",
                "data-revoke": item.documentHash,
                "aria-label": t("console.revokeRowLabel", { hash: item.documentHash }),
              },
              t("console.revokeRow"),
            )
          : t("common.none"),
      ),
    );
  });
  listArea.replaceChildren(
    table({
      caption: t("console.listHeading"),
      columns: [
        t("console.colHash"),
        t("console.colType"),
        t("console.colStatus"),
        t("console.colAnchored"),
        t("console.colExpires"),
        t("console.colActions"),
      ],
      rows,
    }),
  );
  listCount.textContent = t("console.listCount", { count: state.items.length });
}

function render() {
  if (state.message) statusBox.textContent = t(state.message);
  if (!state.who) return;
  renderDepartment();
  fillSelects();
  renderChosenFile();
  renderEvidence();
  renderAnchored();
  renderRevoked();
  if (state.revoking) renderRevokeFacts();
  renderRecorded();
  renderList();
  windowDesk.render();
}

// ---------------------------------------------------------------------------------------------
// Wiring
// ---------------------------------------------------------------------------------------------

/** The window (window.js): what it is told of the session. */
const windowDesk = windowPart({
  token: () => state.token,
  catalogue: () => state.catalogue,
  fail: (error) => fail(error),
});

initPage("console");
onLanguageChange(render);
onDepartmentsLoaded(() => {
  renderDepartment();
  windowDesk.render();
});

bindTokenForm({
  form: tokenForm,
  input: tokenInput,
  submit: tokenSubmit,
  errorBox,
  missingKey: "console.tokenMissing",
  before: () => setMessage(null),
  start: connect,
  fail,
});

anchorFile.addEventListener("change", renderChosenFile);
creditEvidence.addEventListener("change", () => chooseEvidence(creditEvidence.files[0] ?? null));

$("disconnect").addEventListener("click", () => {
  clearError(errorBox);
  disconnect("console.disconnected");
});

anchorForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearError(errorBox);
  setMessage(null);
  const [file] = anchorFile.files;
  if (!file) {
    showError(errorBox, "console.fileMissing");
    anchorFile.focus();
    return;
  }
  const subject = anchorSubject.value.trim();
  if (!subject) {
    showError(errorBox, "console.subjectRequired");
    anchorSubject.focus();
    return;
  }
  const form = new FormData();
  form.append("file", file, file.name);
  form.append("type", anchorType.value);
  form.append("subject", subject);
  if (anchorExpires.value) form.append("expiresAt", anchorExpires.value);
  form.append("store", anchorStore.checked ? "true" : "false");
  await busy(anchorSubmit, async () => {
    try {
      state.anchored = await api("/v1/certificates", {
        method: "POST",
        token: state.token,
        form,
      });
      anchorSubject.value = "";
      anchorFile.value = "";
      renderChosenFile();
      renderAnchored();
    } catch (error) {
      fail(error);
      return;
    }
    await loadList(true).catch(fail);
  });
});

revokeForm.addEventListener("submit", (event) => {
  event.preventDefault();
  clearError(errorBox);
  setMessage(null);
  const documentHash = normaliseHash(revokeHash.value);
  if (!documentHash) {
    revokeHash.setAttribute("aria-invalid", "true");
    showError(errorBox, "verify.hashInvalid");
    revokeHash.focus();
    return;
  }
  revokeHash.removeAttribute("aria-invalid");
  if (!revokeReason.value) {
    markReason(false);
    showError(errorBox, "console.reasonMissing");
    revokeReason.focus();
    return;
  }
  markReason(true);
  // A revocation cannot be undone: it is sent only once confirmed in the dialog.
  state.revoking = { documentHash, reason: revokeReason.value };
  renderRevokeFacts();
  revokeDialog.showModal();
});

/** Mark the reason field valid or not, with its message beside it (seen where focus goes). */
function markReason(valid) {
  if (valid) revokeReason.removeAttribute("aria-invalid");
  else revokeReason.setAttribute("aria-invalid", "true");
  revokeReasonError.hidden = valid;
}

revokeReason.addEventListener("change", () => {
  if (revokeReason.value) markReason(true);
});

/** What the confirmation dialog names: the hash, its type when listed, and the reason. */
function renderRevokeFacts() {
  const { documentHash, reason } = state.revoking;
  const listed = state.items.find((item) => item.documentHash === documentHash);
  const fact = (term, value) => [el("dt", {}, term), el("dd", {}, value)];
  revokeFacts.replaceChildren(
    ...fact(t("console.hashLabel"), el("code", { class: "hash" }, documentHash)),
    ...(listed ? fact(t("console.confirmType"), typeTitle(state.catalogue, listed.type)) : []),
    ...fact(t("console.reasonLabel"), reasonLabel(reason)),
  );
}

function cancelRevocation() {
  if (!state.revoking) return;
  state.revoking = null;
  if (revokeDialog.open) revokeDialog.close();
  setMessage("console.revokeCancelled");
  revokeSubmit.focus();
}

revokeCancel.addEventListener("click", cancelRevocation);
// Escape closes a modal dialog by itself: that is a cancellation too.
revokeDialog.addEventListener("cancel", (event) => {
  event.preventDefault();
  cancelRevocation();
});

revokeConfirmForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const revoking = state.revoking;
  state.revoking = null;
  revokeDialog.close();
  if (!revoking) return;
  revokeSubmit.focus();
  await busy(revokeSubmit, async () => {
    try {
      state.revoked = await api(`/v1/certificates/${revoking.documentHash}/revoke`, {
        method: "POST",
        token: state.token,
        json: { reason: revoking.reason },
      });
      revokeReason.value = "";
      renderRevoked();
    } catch (error) {
      fail(error);
      return;
    }
    await loadList(true).catch(fail);
  });
});

listArea.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-revoke]");
  if (!button) return;
  revokeHash.value = button.dataset.revoke;
  revokeHash.removeAttribute("aria-invalid");
  revokeReason.focus();
  revokeForm.scrollIntoView({ block: "center" });
});

creditForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearError(errorBox);
  setMessage(null);
  const subject = creditSubject.value.trim();
  if (!subject) {
    showError(errorBox, "console.subjectRequired");
    creditSubject.focus();
    return;
  }
  const severity = Number(creditSeverity.value);
  const lowest = Number(creditSeverity.min);
  const highest = Number(creditSeverity.max);
  if (!Number.isInteger(severity) || severity < lowest || severity > highest) {
    showError(errorBox, "console.severityInvalid");
    creditSeverity.focus();
    return;
  }
  if (!creditOccurred.value) {
    showError(errorBox, "console.dateMissing");
    creditOccurred.focus();
    return;
  }
  const body = {
    subject,
    category: creditCategory.value,
    polarity: creditPolarity.value,
    severity,
    occurredAt: creditOccurred.value,
  };
  const evidence = state.evidence;
  if (!evidence) {
    state.evidenceMissing = true;
    renderEvidence();
    showError(errorBox, "console.evidenceMissing");
    creditEvidence.focus();
    return;
  }
  await busy(creditSubmit, async () => {
    await evidence.done;
    if (evidence.error) {
      showError(errorBox, evidence.error);
      creditEvidence.focus();
      return;
    }
    body.evidenceHash = evidence.hash;
    try {
      state.recorded = await api("/v1/credit/events", {
        method: "POST",
        token: state.token,
        json: body,
      });
      creditSubject.value = "";
      creditEvidence.value = "";
      state.evidence = null;
      renderEvidence();
      renderRecorded();
    } catch (error) {
      fail(error);
    }
  });
});

listRefresh.addEventListener("click", () =>
  busy(listRefresh, () => loadList(true).catch(fail)),
);
listMore.addEventListener("click", () => busy(listMore, () => loadList(false).catch(fail)));

renderChosenFile();
renderEvidence();
if (state.token) {
  connect(state.token).catch(fail);
} else {
  connectSection.hidden = false;
}
