// The console's window (窗口受理): take an applicant's consent code (typed, or scanned where the
// browser has BarcodeDetector), show per certificate type of the service the applicant's
// certificates as the chain verifies them or what is missing, read a stored copy the consent
// allows, verify a document handed over, and when it is forged or altered and the officer
// confirms it, record the false-information event (ADR 0029). Nothing here names the applicant:
// the window sees the consent, never an identity number.

import {
  ApiError,
  api,
  badge,
  busy,
  clearError,
  departmentLabel,
  el,
  expiryText,
  formatDateTime,
  label,
  shortHash,
  showError,
  t,
  table,
  typeTitle,
} from "./common.js";
import { getLanguage } from "./i18n.js";

const $ = (id) => document.getElementById(id);
/** What a consent's QR code carries before the code (api/routes/consents.py QR_PREFIX). */
const QR_PREFIX = "GLCONSENT:";
const CODE = /^[0-9A-Z]{10}$/;

/**
 * The code in ``text`` as ``XXXXX-XXXXX`` (typed in any case, with spaces or hyphens anywhere,
 * or a scanned QR text); else null. Look-alike letters are the service's to read (ADR 0025).
 */
export function codeOf(text) {
  let value = String(text ?? "").trim().toUpperCase();
  if (value.startsWith(QR_PREFIX)) value = value.slice(QR_PREFIX.length);
  value = value.replace(/[\s-]+/g, "");
  if (!CODE.test(value)) return null;
  return `${value.slice(0, 5)}-${value.slice(5)}`;
}

/** The stored copy's bytes, under the page's bearer token (a link cannot carry it). */
async function fetchCopy(token, consentId, documentHash) {
  const path = `/v1/window/consents/${consentId}/documents/${documentHash}`;
  let response;
  try {
    response = await fetch(path, {
      headers: { Authorization: `Bearer ${token}` },
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
    });
  } catch {
    throw new ApiError(0, { code: "network" });
  }
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    throw new ApiError(response.status, problem, response.headers.get("retry-after"));
  }
  return response.blob();
}

/**
 * Wire the window. ``page`` gives ``token()``, ``catalogue()``, ``fail(error)`` (shows an error;
 * a refused token ends the session). Answers ``render`` (a language switch) and ``reset``.
 */
export function windowPart(page) {
  const form = $("window-form");
  const codeInput = $("window-code");
  const submit = $("window-submit");
  const scanButton = $("window-scan");
  const scanner = $("window-scanner");
  const video = $("window-video");
  const scanStop = $("window-scan-stop");
  const resultArea = $("window-result");
  const uploadPart = $("window-upload");
  const uploadForm = $("upload-form");
  const uploadFile = $("upload-file");
  const uploadFileName = $("upload-file-name");
  const uploadSubmit = $("upload-submit");
  const uploadResult = $("upload-result");
  const forgeryForm = $("forgery-form");
  const forgeryReason = $("forgery-reason");
  const forgeryConfirm = $("forgery-confirm");
  const forgerySubmit = $("forgery-submit");
  const forgeryResult = $("forgery-result");
  const errorBox = $("error");

  const state = {
    services: null,
    /** The last check's answer (WindowCheckOut). */
    check: null,
    /** Stored copies read: document hash → size in bytes. */
    copies: new Map(),
    /** The document handed over and its verification: ``{file, report}``. */
    upload: null,
    /** The false-information event recorded for it. */
    recorded: null,
    stream: null,
  };

  const serviceTitle = (code) => {
    const entry = state.services?.find((item) => item.code === code);
    if (!entry) return code;
    return (getLanguage() === "zh" ? entry.titleZh : entry.titleEn) || code;
  };
  const verdictBadge = (verdict) =>
    badge("window", verdict, t(verdict === "VALID" ? "verify.valid" : "verify.invalid"));

  function failedChecks(report) {
    const failed = (report?.checks ?? []).filter((check) => check.outcome === "failed");
    return failed.map((check) => label("check", check.name)).join(getLanguage() === "zh" ? "、" : ", ");
  }

  // -- the check ------------------------------------------------------------------------------

  function certificateRow(requirement, cert) {
    const report = cert.report ?? {};
    const record = report.record;
    const copied = state.copies.get(cert.documentHash);
    return el(
      "tr",
      { "data-type": requirement.type, "data-hash": cert.documentHash, "data-verdict": report.verdict },
      el("td", {}, typeTitle(page.catalogue(), requirement.type)),
      el(
        "td",
        {},
        verdictBadge(report.verdict),
        report.verdict === "VALID" ? null : el("span", { class: "window-failed" }, failedChecks(report)),
      ),
      el("td", { class: "department" }, record ? departmentLabel(record.issuer, record.region) : t("common.none")),
      el("td", {}, record ? String(record.region) : t("common.none")),
      el("td", {}, record ? formatDateTime(record.anchoredAt) : t("common.none")),
      el("td", {}, record ? expiryText(record.expiresAt) : t("common.none")),
      el("td", {}, el("code", { class: "hash", title: cert.documentHash }, shortHash(cert.documentHash))),
      el(
        "td",
        {},
        cert.storedCopy
          ? el(
              "button",
              {
                type: "button",
                class: "btn btn-small",
                "data-copy": cert.documentHash,
                "aria-label": t("console.readCopyLabel", {
                  type: typeTitle(page.catalogue(), requirement.type),
                }),
              },
              t("console.readCopy"),
            )
          : el("span", { class: "hint" }, t("console.noCopy")),
        copied === undefined
          ? null
          : el("span", { class: "copy-note" }, t("console.copyRead", { size: copied })),
      ),
    );
  }

  function missingRow(requirement) {
    return el(
      "tr",
      { "data-type": requirement.type, "data-verdict": "missing" },
      el("td", {}, typeTitle(page.catalogue(), requirement.type)),
      el(
        "td",
        { colspan: "7" },
        requirement.required
          ? badge("window", "missing", t("console.missing"))
          : el("span", { class: "hint" }, t("console.notProvided")),
      ),
    );
  }

  function renderCheck() {
    const check = state.check;
    if (!check) {
      resultArea.replaceChildren();
      uploadPart.hidden = true;
      return;
    }
    uploadPart.hidden = false;
    const rows = [];
    for (const requirement of check.requirements ?? []) {
      const certificates = requirement.certificates ?? [];
      if (certificates.length === 0) rows.push(missingRow(requirement));
      for (const cert of certificates) rows.push(certificateRow(requirement, cert));
    }
    const missing = check.missing ?? [];
    resultArea.replaceChildren(
      el(
        "dl",
        { class: "session-facts window-facts" },
        el("div", {}, el("dt", {}, t("console.checkService")), el("dd", { id: "window-service" }, serviceTitle(check.service))),
        el("div", {}, el("dt", {}, t("console.checkApplicant")), el("dd", {}, label("console.applicantKind", check.subjectKind))),
        el("div", {}, el("dt", {}, t("console.checkMode")), el("dd", {}, label("consentMode", check.mode))),
        el("div", {}, el("dt", {}, t("console.checkExpires")), el("dd", {}, formatDateTime(check.expiresAt))),
      ),
      el(
        "p",
        { class: missing.length ? "warning" : "notice", id: "window-summary", "data-missing": missing.length },
        missing.length
          ? t("console.missingSummary", {
              types: missing.map((type) => typeTitle(page.catalogue(), type)).join(getLanguage() === "zh" ? "、" : ", "),
            })
          : t("console.allPresent"),
      ),
      table({
        caption: t("console.checkCaption"),
        columns: [
          t("console.colType"),
          t("console.colResult"),
          t("console.colIssuer"),
          t("console.colRegion"),
          t("console.colAnchored"),
          t("console.colExpires"),
          t("console.colHash"),
          t("console.colCopy"),
        ],
        rows,
      }),
    );
  }

  async function runCheck(body) {
    clearError(errorBox);
    await busy(submit, async () => {
      try {
        const [check] = await Promise.all([
          api("/v1/window/checks", { method: "POST", token: page.token(), json: body }),
          state.services
            ? null
            : api("/v1/services").then((answer) => {
                state.services = answer?.services ?? [];
              }, () => null),
        ]);
        Object.assign(state, { check, copies: new Map(), upload: null, recorded: null });
        codeInput.value = "";
        uploadForm.reset();
        forgeryForm.reset();
        render();
      } catch (error) {
        page.fail(error);
      }
    });
  }

  // -- scanning (where the browser can) -------------------------------------------------------

  const canScan = () =>
    "BarcodeDetector" in window && Boolean(navigator.mediaDevices?.getUserMedia);

  function stopScan() {
    for (const track of state.stream?.getTracks() ?? []) track.stop();
    state.stream = null;
    video.srcObject = null;
    scanner.hidden = true;
  }

  async function startScan() {
    clearError(errorBox);
    let detector;
    try {
      detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      state.stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "environment" },
      });
    } catch {
      stopScan();
      showError(errorBox, "console.scanUnavailable");
      return;
    }
    video.srcObject = state.stream;
    scanner.hidden = false;
    await video.play().catch(() => null);
    const look = async () => {
      if (!state.stream) return;
      const found = await detector.detect(video).catch(() => []);
      const code = found.map((item) => codeOf(item.rawValue)).find(Boolean);
      if (code) {
        stopScan();
        codeInput.value = code;
        await runCheck({ code });
        return;
      }
      window.setTimeout(look, 250);
    };
    look();
  }

  // -- a document handed over -----------------------------------------------------------------

  function renderUpload() {
    const [file] = uploadFile.files;
    uploadFileName.textContent = file ? file.name : t("console.noFile");
    const upload = state.upload;
    if (!upload) {
      uploadResult.classList.remove("outcome-bad");
      uploadResult.replaceChildren();
      forgeryForm.hidden = true;
      return;
    }
    const report = upload.report;
    const invalid = report.verdict !== "VALID";
    uploadResult.classList.toggle("outcome-bad", invalid);
    uploadResult.replaceChildren(
      el(
        "p",
        { id: "upload-verdict", "data-verdict": report.verdict },
        verdictBadge(report.verdict),
        " ",
        invalid
          ? t("console.uploadInvalid", { checks: failedChecks(report) || t("common.none") })
          : t("console.uploadValid"),
      ),
      report.documentHash
        ? el("p", { class: "hint" }, t("console.uploadHash"), " ", el("code", { class: "hash" }, report.documentHash))
        : null,
      invalid
        ? el(
            "p",
            { class: "hint", id: "upload-suspicion" },
            t(report.forgerySuspected ? "console.forgerySuspected" : "console.forgeryUnlikely"),
          )
        : null,
    );
    // Only a failure a damaged file cannot explain may be recorded (ADR 0029): the service
    // says which, the officer decides whether it is a forgery.
    forgeryForm.hidden = !(invalid && report.forgerySuspected) || Boolean(state.recorded);
  }

  function renderRecorded() {
    const recorded = state.recorded;
    if (!recorded) {
      forgeryResult.replaceChildren();
      return;
    }
    const id = recorded.eventId ?? recorded.operationId;
    forgeryResult.replaceChildren(
      el(
        "p",
        { "data-event": id },
        t(recorded.eventId ? "console.forgeryRecorded" : "console.forgeryAccepted"),
      ),
      el("code", { class: "hash", id: "forgery-event" }, id),
      recorded.evidenceHash
        ? el("p", { class: "hint" }, t("console.forgeryEvidence"), " ", el("code", { class: "hash" }, recorded.evidenceHash))
        : null,
    );
  }

  function render() {
    renderCheck();
    renderUpload();
    renderRecorded();
  }

  function reset() {
    stopScan();
    Object.assign(state, { check: null, copies: new Map(), upload: null, recorded: null });
    form.reset();
    uploadForm.reset();
    forgeryForm.reset();
    render();
  }

  // -- wiring ---------------------------------------------------------------------------------

  scanButton.hidden = !canScan();
  scanButton.addEventListener("click", startScan);
  scanStop.addEventListener("click", stopScan);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = codeOf(codeInput.value);
    if (!code) {
      codeInput.setAttribute("aria-invalid", "true");
      showError(errorBox, "console.codeInvalid");
      codeInput.focus();
      return;
    }
    codeInput.removeAttribute("aria-invalid");
    await runCheck({ code });
  });

  resultArea.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-copy]");
    if (!button || !state.check) return;
    clearError(errorBox);
    const documentHash = button.dataset.copy;
    await busy(button, async () => {
      let blob;
      try {
        blob = await fetchCopy(page.token(), state.check.consentId, documentHash);
      } catch (error) {
        page.fail(error);
        return;
      }
      state.copies.set(documentHash, blob.size);
      const url = URL.createObjectURL(blob);
      const link = el("a", { href: url, download: `copy-${documentHash.slice(2, 14)}` });
      document.body.append(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
      renderCheck();
    });
  });

  uploadFile.addEventListener("change", () => {
    state.upload = null;
    state.recorded = null;
    render();
  });

  uploadForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(errorBox);
    const [file] = uploadFile.files;
    if (!file) {
      showError(errorBox, "console.uploadMissing");
      uploadFile.focus();
      return;
    }
    const body = new FormData();
    body.append("file", file, file.name);
    await busy(uploadSubmit, async () => {
      try {
        const report = await api(`/v1/window/consents/${state.check.consentId}/verifications`, {
          method: "POST",
          token: page.token(),
          form: body,
        });
        state.upload = { file, report };
        state.recorded = null;
        forgeryForm.reset();
        render();
      } catch (error) {
        page.fail(error);
      }
    });
  });

  forgeryForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(errorBox);
    if (!forgeryReason.value) {
      forgeryReason.setAttribute("aria-invalid", "true");
      showError(errorBox, "console.forgeryReasonMissing");
      forgeryReason.focus();
      return;
    }
    forgeryReason.removeAttribute("aria-invalid");
    if (!forgeryConfirm.checked) {
      forgeryConfirm.setAttribute("aria-invalid", "true");
      showError(errorBox, "console.forgeryConfirmMissing");
      forgeryConfirm.focus();
      return;
    }
    forgeryConfirm.removeAttribute("aria-invalid");
    const upload = state.upload;
    const body = new FormData();
    body.append("file", upload.file, upload.file.name);
    body.append("reason", forgeryReason.value);
    body.append("confirm", "true");
    await busy(forgerySubmit, async () => {
      try {
        state.recorded = await api(
          `/v1/window/consents/${state.check.consentId}/false-information`,
          { method: "POST", token: page.token(), form: body },
        );
        render();
      } catch (error) {
        page.fail(error);
      }
    });
  });

  return { render, reset };
}
