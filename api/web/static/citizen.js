// The citizen and enterprise page: log in through the identity provider (in the demo, the
// service's development issuer), then read one's own certificates and credit history and dispute
// an event. The bearer token lives in sessionStorage only. The identity number typed to log in
// stays in its input until the login succeeds and is then cleared: it is never written anywhere
// else on the page.

import {
  api,
  bindTokenForm,
  badge,
  busy,
  categoryTitle,
  clearError,
  departmentLabel,
  el,
  forgetToken,
  expiryText,
  formatDate,
  formatDateTime,
  initPage,
  label,
  loadCatalogue,
  loadDepartments,
  onDepartmentsLoaded,
  onLanguageChange,
  readToken,
  shortHash,
  showError,
  statusLabel,
  storeToken,
  t,
  table,
  typeTitle,
  verifyLink,
} from "./common.js";
import { accessLogPart } from "./accesslog.js";
import { consentPart } from "./consent.js";

const TOKEN_KEY = "ledger.citizenToken";
/** Amendment states from which the subject may dispute (contracts/CreditLedger.sol). */
const DISPUTABLE = new Set(["none", "corrected", "upheld"]);

const errorBox = document.getElementById("error");
const statusBox = document.getElementById("status");
const loginSection = document.getElementById("login");
const accountSection = document.getElementById("account");
const devForm = document.getElementById("dev-form");
const subjectInput = document.getElementById("subject-input");
const devSubmit = document.getElementById("dev-submit");
const tokenForm = document.getElementById("token-form");
const tokenInput = document.getElementById("token-input");
const tokenSubmit = document.getElementById("token-submit");
const sessionWho = document.getElementById("session-who");
const logoutButton = document.getElementById("logout");
const certificatesArea = document.getElementById("certificates");
const scoreArea = document.getElementById("score");
const eventsArea = document.getElementById("events");
const disputeDialog = document.getElementById("dispute-dialog");
const disputeForm = document.getElementById("dispute-form");
const disputeReason = document.getElementById("dispute-reason");
const disputeError = document.getElementById("dispute-error");
const disputeCancel = document.getElementById("dispute-cancel");
const disputeSubmit = document.getElementById("dispute-submit");

const state = {
  token: readToken(TOKEN_KEY),
  who: null,
  catalogue: null,
  certificates: null,
  credit: null,
  disputing: null,
  /** Dictionary key of the message in the status line (kept so a language switch redraws it). */
  message: null,
};

// ---------------------------------------------------------------------------------------------
// Session
// ---------------------------------------------------------------------------------------------

function isSubject(who) {
  return who?.role === "citizen" || who?.role === "enterprise";
}

function isEnterprise(who) {
  return who?.role === "enterprise" || who?.subjectKind === "enterprise";
}

function setMessage(key) {
  state.message = key;
  statusBox.textContent = key ? t(key) : "";
}

function showLogin() {
  accountSection.hidden = true;
  loginSection.hidden = false;
}

function showAccount() {
  loginSection.hidden = true;
  accountSection.hidden = false;
}

/** Forget the token and everything read with it: nothing personal stays in the page. */
function logout(messageKey = null) {
  forgetToken(TOKEN_KEY);
  Object.assign(state, { token: null, who: null, certificates: null, credit: null });
  if (disputeDialog.open) disputeDialog.close();
  consents.reset();
  accessLog.reset();
  certificatesArea.replaceChildren();
  scoreArea.replaceChildren();
  eventsArea.replaceChildren();
  sessionWho.textContent = "";
  setMessage(messageKey);
  showLogin();
}

/** Show ``error``; a refused credential ends the session. */
function fail(error, box = errorBox) {
  if (error?.status === 401) {
    logout();
    showError(errorBox, error);
    return;
  }
  showError(box, error);
}

async function startSession(token) {
  state.token = token;
  const who = await api("/v1/whoami", { token });
  if (!isSubject(who)) {
    logout();
    showError(errorBox, "citizen.notCitizenToken");
    return false;
  }
  storeToken(TOKEN_KEY, token);
  state.who = who;
  showAccount();
  renderSession();
  await loadAccount();
  return true;
}

async function loadAccount() {
  certificatesArea.setAttribute("aria-busy", "true");
  eventsArea.setAttribute("aria-busy", "true");
  const token = state.token;
  // Names the issuers and recorders once it answers (a redraw); the tables never wait for it.
  loadDepartments();
  const [catalogue, certificates, credit] = await Promise.all([
    loadCatalogue().catch(() => null),
    api("/v1/me/certificates", { token }),
    api("/v1/me/credit", { token }),
  ]);
  if (token !== state.token) return;
  Object.assign(state, { catalogue, certificates, credit });
  render();
  await Promise.all([consents.load(), accessLog.load()]);
}

async function reloadCredit() {
  state.credit = await api("/v1/me/credit", { token: state.token });
  renderCredit();
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

function renderSession() {
  if (!state.who) return;
  sessionWho.textContent = t(
    isEnterprise(state.who) ? "citizen.loggedInEnterprise" : "citizen.loggedInCitizen",
  );
}

function renderCertificates() {
  certificatesArea.removeAttribute("aria-busy");
  const items = state.certificates?.items ?? [];
  if (items.length === 0) {
    certificatesArea.replaceChildren(el("p", { class: "empty" }, t("citizen.certsEmpty")));
    return;
  }
  const rows = items.map((item) =>
    el(
      "tr",
      { "data-hash": item.documentHash, "data-status": item.status },
      el("td", {}, typeTitle(state.catalogue, item.type)),
      el(
        "td",
        { class: "department", "data-department": item.departmentId },
        departmentLabel(item.departmentId, item.region),
      ),
      el("td", {}, badge("status", item.status, statusLabel(item.status))),
      el("td", {}, formatDateTime(item.anchoredAt)),
      el("td", {}, expiryText(item.expiresAt)),
      el("td", {}, verifyLink(item.documentHash)),
    ),
  );
  certificatesArea.replaceChildren(
    table({
      caption: t("citizen.certsHeading"),
      columns: [
        t("citizen.colType"),
        t("citizen.colDepartment"),
        t("citizen.colStatus"),
        t("citizen.colAnchored"),
        t("citizen.colExpires"),
        t("citizen.colHash"),
      ],
      rows,
    }),
  );
}

function renderScore() {
  const score = state.credit?.score;
  if (!score) {
    scoreArea.replaceChildren();
    return;
  }
  const counted = Array.isArray(score.events) ? score.events.length : score.events;
  scoreArea.replaceChildren(
    el(
      "div",
      { class: "score", id: "score-box" },
      el("span", { class: "score-label" }, t("citizen.score")),
      el("span", { class: "score-value", id: "score-value" }, String(score.value)),
      el(
        "span",
        { class: "score-detail" },
        t("citizen.scoreDetail", { policy: score.policy, events: counted ?? 0 }),
      ),
    ),
  );
}

function amendmentOf(event) {
  return event.amendment || "none";
}

/** Whether third parties see the event now, and until when (ADR 0020; computed by the API). */
function disclosureCell(event) {
  const disclosed = event.disclosed !== false;
  const until = event.disclosedUntil;
  let text;
  if (!disclosed) text = t("citizen.notDisclosedSince", { date: formatDate(until) });
  else if (until) text = t("citizen.disclosedUntil", { date: formatDate(until) });
  else text = t("citizen.disclosedNoEnd");
  return el("td", { class: "disclosure" }, text);
}

// The events are shown in the order the API gives (oldest occurrence first, ties in recording
// order: ledger/contracts/credit.py decides it once for the CLI, the API and this page).
function renderEvents() {
  eventsArea.removeAttribute("aria-busy");
  const events = state.credit?.events ?? [];
  if (events.length === 0) {
    eventsArea.replaceChildren(el("p", { class: "empty" }, t("citizen.creditEmpty")));
    return;
  }
  const rows = events.map((event) => {
    const amendment = amendmentOf(event);
    const action = DISPUTABLE.has(amendment)
      ? el(
          "button",
          {
            type: "button",
            class: "btn btn-small",
            "data-dispute": event.eventId,
            "aria-label": t("citizen.disputeLabel", { id: event.eventId.slice(0, 10) }),
          },
          t("citizen.dispute"),
        )
      : t("common.none");
    return el(
      "tr",
      {
        "data-event": event.eventId,
        "data-amendment": amendment,
        "data-disclosed": String(event.disclosed !== false),
      },
      el("td", {}, categoryTitle(state.catalogue, event.category)),
      el("td", {}, badge("polarity", event.polarity, label("polarity", event.polarity))),
      el("td", {}, String(event.severity)),
      el(
        "td",
        { class: "department", "data-department": event.departmentId },
        departmentLabel(event.departmentId),
      ),
      el(
        "td",
        { class: "evidence" },
        event.evidenceHash
          ? el("code", { class: "hash", title: event.evidenceHash }, shortHash(event.evidenceHash))
          : t("common.none"),
      ),
      el("td", {}, formatDate(event.occurredAt)),
      el("td", {}, formatDateTime(event.recordedAt)),
      el(
        "td",
        { class: "amendment" },
        badge("amendment", amendment, label("amendment", amendment)),
      ),
      el("td", {}, event.amendedAt ? formatDateTime(event.amendedAt) : t("common.none")),
      disclosureCell(event),
      // Kept in view at the right edge while the table scrolls sideways (a phone).
      el("td", { class: "row-actions" }, action),
    );
  });
  eventsArea.replaceChildren(
    el("p", { class: "hint", id: "disclosure-note" }, t("citizen.disclosureNote")),
    table({
      caption: t("citizen.creditHeading"),
      columns: [
        t("citizen.colCategory"),
        t("citizen.colPolarity"),
        t("citizen.colSeverity"),
        t("citizen.colRecorder"),
        t("citizen.colEvidence"),
        t("citizen.colOccurred"),
        t("citizen.colRecorded"),
        t("citizen.colAmendment"),
        t("citizen.colAmended"),
        t("citizen.colDisclosure"),
        t("citizen.colActions"),
      ],
      rows,
    }),
  );
}

function renderCredit() {
  renderScore();
  renderEvents();
}

function render() {
  if (state.message) statusBox.textContent = t(state.message);
  if (!state.who) return;
  renderSession();
  if (state.certificates) renderCertificates();
  if (state.credit) renderCredit();
  consents.render();
  accessLog.render();
}

// ---------------------------------------------------------------------------------------------
// Wiring
// ---------------------------------------------------------------------------------------------

/** What the page's parts (consent.js, accesslog.js) are told of the session. */
const part = {
  token: () => state.token,
  kind: () => (isEnterprise(state.who) ? "enterprise" : "citizen"),
  catalogue: () => state.catalogue,
  certificates: () => state.certificates?.items ?? null,
  fail: (error) => fail(error),
  say: (key) => setMessage(key),
  serviceTitle: (code) => consents.serviceTitle(code),
  changed: () => accessLog.load().catch((error) => fail(error)),
};
const consents = consentPart(part);
const accessLog = accessLogPart(part);

initPage("citizen");
onLanguageChange(render);
// Only the tables name departments: the status line is not redrawn (nor announced again).
onDepartmentsLoaded(() => {
  if (!state.who) return;
  if (state.certificates) renderCertificates();
  if (state.credit) renderEvents();
  consents.render();
  accessLog.render();
});

devForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearError(errorBox);
  setMessage(null);
  const subject = subjectInput.value.trim();
  if (!subject) {
    showError(errorBox, "citizen.subjectMissing");
    subjectInput.focus();
    return;
  }
  await busy(devSubmit, async () => {
    try {
      const issued = await api("/v1/dev/token", { method: "POST", json: { subject } });
      subjectInput.value = "";
      await startSession(issued.token);
    } catch (error) {
      if (error?.status === 404) showError(errorBox, "error.dev_issuer_disabled");
      else fail(error);
    }
  });
});

bindTokenForm({
  form: tokenForm,
  input: tokenInput,
  submit: tokenSubmit,
  errorBox,
  missingKey: "citizen.tokenMissing",
  before: () => setMessage(null),
  start: startSession,
  fail,
});

logoutButton.addEventListener("click", () => {
  clearError(errorBox);
  logout("citizen.loggedOut");
});

eventsArea.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-dispute]");
  if (!button) return;
  state.disputing = button.dataset.dispute;
  disputeReason.value = "";
  clearError(disputeError);
  disputeDialog.showModal();
  disputeReason.focus();
});

disputeCancel.addEventListener("click", () => {
  state.disputing = null;
  disputeDialog.close();
});

disputeForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearError(disputeError);
  const reason = disputeReason.value.trim();
  if (!reason) {
    showError(disputeError, "citizen.reasonMissing");
    disputeReason.focus();
    return;
  }
  const eventId = state.disputing;
  await busy(disputeSubmit, async () => {
    try {
      await api(`/v1/credit/events/${encodeURIComponent(eventId)}/dispute`, {
        method: "POST",
        token: state.token,
        json: { reason },
      });
      state.disputing = null;
      disputeReason.value = "";
      disputeDialog.close();
      setMessage("citizen.disputeDone");
    } catch (error) {
      if (error?.status === 401) {
        fail(error);
      } else {
        showError(disputeError, error);
      }
      return;
    }
    try {
      await reloadCredit();
    } catch (error) {
      fail(error);
    }
  });
});

disputeDialog.addEventListener("close", () => {
  state.disputing = null;
});

if (state.token) {
  startSession(state.token).catch((error) => fail(error));
} else {
  showLogin();
}
