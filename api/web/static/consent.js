// The citizen page's "apply for a service" part (办理事项): pick a service of the catalogue for
// one's own kind, see which of one's certificates it checks, and grant one department's window
// consent (ADR 0025). The code is answered once, by the grant: it is shown large with its QR
// code and the time left, kept in memory only, and gone with a reload or a logout.

import {
  api,
  badge,
  busy,
  clearError,
  departmentLabel,
  el,
  expiryText,
  formatDateTime,
  label,
  loadDepartments,
  showError,
  t,
  typeTitle,
} from "./common.js";
import { getLanguage } from "./i18n.js";
import { qrSvg } from "./qr.js";

const $ = (id) => document.getElementById(id);

/**
 * Wire the part. ``page`` gives what the citizen page knows: ``token()``, ``kind()`` ("citizen"
 * or "enterprise"), ``catalogue()``, ``certificates()`` (the items of /v1/me/certificates),
 * ``fail(error, box)`` (shows an error; a refused token ends the session) and ``changed()``
 * (the access log may have grown). Answers the functions the page calls.
 */
export function consentPart(page) {
  const form = $("consent-form");
  const serviceSelect = $("consent-service");
  const needsArea = $("service-needs");
  const departmentSelect = $("consent-department");
  const minutesInput = $("consent-minutes");
  const submit = $("consent-submit");
  const grantedArea = $("consent-granted");
  const listArea = $("consents");
  const errorBox = $("error");

  const state = {
    services: null,
    departments: null,
    consents: null,
    /** The last grant, with its code: ``{consent, shownAt}``; memory only. */
    granted: null,
    timer: null,
  };

  const serviceTitle = (entry) =>
    entry ? (getLanguage() === "zh" ? entry.titleZh : entry.titleEn) || entry.code : "";
  const serviceByCode = (code) => state.services?.find((entry) => entry.code === code) ?? null;
  const typeName = (item) => (getLanguage() === "zh" ? item.titleZh : item.titleEn) || item.type;

  function offered() {
    const kind = page.kind();
    return (state.services ?? []).filter((entry) => entry.subjectKinds.includes(kind));
  }

  function fillServices() {
    const previous = serviceSelect.value;
    const services = offered();
    serviceSelect.replaceChildren(
      el("option", { value: "" }, t("citizen.servicePlaceholder")),
      ...services.map((entry) =>
        el("option", { value: entry.code, selected: entry.code === previous }, serviceTitle(entry)),
      ),
    );
  }

  function fillDepartments() {
    const previous = departmentSelect.value;
    const items = (state.departments ?? []).filter((item) => !item.suspended);
    departmentSelect.replaceChildren(
      el("option", { value: "" }, t("citizen.departmentPlaceholder")),
      ...items.map((item) =>
        el(
          "option",
          { value: String(item.id), selected: String(item.id) === previous },
          departmentLabel(item.id, item.region),
        ),
      ),
    );
  }

  /** Whether ``item`` (one of my certificates) counts now: active and not expired. */
  function usable(item) {
    if (item.status !== "active") return false;
    return !item.expiresAt || new Date(item.expiresAt).getTime() > Date.now();
  }

  /** One line per type the service names: required or accepted, and my valid certificates. */
  function renderNeeds() {
    const entry = serviceByCode(serviceSelect.value);
    if (!entry) {
      needsArea.replaceChildren();
      return;
    }
    const mine = page.certificates() ?? [];
    const line = (item, required) => {
      const valid = mine.filter((cert) => cert.type === item.type && usable(cert));
      const have = valid.length > 0;
      return el(
        "li",
        { class: `fit fit-${have ? "have" : "missing"}`, "data-type": item.type },
        el("span", { class: "fit-type" }, typeName(item)),
        " ",
        el(
          "span",
          { class: "fit-kind" },
          t(required ? "citizen.fitRequired" : "citizen.fitAccepted"),
        ),
        " ",
        have
          ? badge("fit", "have", t("citizen.fitHave", { count: valid.length }))
          : badge(
              "fit",
              required ? "missing" : "none",
              t(required ? "citizen.fitMissing" : "citizen.fitNone"),
            ),
        have
          ? el(
              "span",
              { class: "fit-detail" },
              valid
                .map((cert) =>
                  t(cert.expiresAt ? "citizen.fitCertificate" : "citizen.fitCertificateNoEnd", {
                    department: departmentLabel(cert.departmentId, cert.region),
                    expires: expiryText(cert.expiresAt),
                  }),
                )
                .join(" · "),
            )
          : null,
      );
    };
    needsArea.replaceChildren(
      el("p", { class: "service-summary" }, getLanguage() === "zh" ? entry.summaryZh : entry.summaryEn),
      el(
        "ul",
        { class: "fit-list", "aria-label": t("citizen.fitCaption") },
        entry.requires.map((item) => line(item, true)),
        entry.accepts.map((item) => line(item, false)),
      ),
    );
  }

  // -- the code just granted ------------------------------------------------------------------

  function remaining(consent) {
    return Math.max(0, Math.floor((new Date(consent.expiresAt).getTime() - Date.now()) / 1000));
  }

  function countdownText(seconds) {
    if (seconds <= 0) return t("citizen.codeExpired");
    const minutes = Math.floor(seconds / 60);
    const rest = String(seconds % 60).padStart(2, "0");
    return t("citizen.codeLeft", { time: `${minutes}:${rest}` });
  }

  function tick() {
    const granted = state.granted;
    const node = $("consent-countdown");
    if (!granted || !node) return;
    const seconds = remaining(granted.consent);
    node.textContent = countdownText(seconds);
    node.dataset.seconds = String(seconds);
    if (seconds <= 0) {
      grantedArea.classList.add("consent-expired");
      stopTimer();
    }
  }

  function stopTimer() {
    if (state.timer !== null) window.clearInterval(state.timer);
    state.timer = null;
  }

  function renderGranted() {
    const granted = state.granted;
    if (!granted) {
      grantedArea.hidden = true;
      grantedArea.replaceChildren();
      return;
    }
    const consent = granted.consent;
    grantedArea.hidden = false;
    grantedArea.classList.toggle("consent-expired", remaining(consent) <= 0);
    grantedArea.replaceChildren(
      el("p", { class: "consent-done" }, t("citizen.granted")),
      el(
        "p",
        { class: "consent-code", id: "consent-code", "aria-label": t("citizen.codeLabel") },
        consent.code,
      ),
      qrSvg(consent.qrText, t("citizen.qrLabel", { code: consent.code })),
      // A timer is not read out every second, inside the live region or not.
      el(
        "p",
        { class: "consent-countdown", id: "consent-countdown", role: "timer", "aria-live": "off" },
        "",
      ),
      el(
        "p",
        { class: "hint" },
        t("citizen.grantedFor", {
          service: serviceTitle(serviceByCode(consent.service)) || consent.service,
          department: departmentLabel(consent.departmentId),
          mode: label("consentMode", consent.mode),
        }),
      ),
      el("p", { class: "hint" }, t("citizen.codeNote")),
    );
    tick();
  }

  // -- my consents ----------------------------------------------------------------------------

  function renderConsents() {
    listArea.removeAttribute("aria-busy");
    const items = state.consents ?? [];
    if (items.length === 0) {
      listArea.replaceChildren(el("p", { class: "empty" }, t("citizen.consentsEmpty")));
      return;
    }
    listArea.replaceChildren(
      el(
        "ul",
        { class: "card-list", "aria-labelledby": "consents-heading" },
        items.map((item) =>
          el(
            "li",
            { class: "card-item", "data-consent": item.consentId, "data-state": item.state },
            el(
              "div",
              { class: "card-head" },
              el(
                "span",
                { class: "card-title" },
                serviceTitle(serviceByCode(item.service)) || item.service,
              ),
              badge("consent", item.state, label("consentState", item.state)),
            ),
            el("p", { class: "card-line" }, departmentLabel(item.departmentId)),
            el(
              "p",
              { class: "card-line hint" },
              t("citizen.consentFacts", {
                mode: label("consentMode", item.mode),
                uses: item.uses,
                created: formatDateTime(item.createdAt),
                expires: formatDateTime(item.expiresAt),
              }),
            ),
            item.state === "active"
              ? el(
                  "button",
                  {
                    type: "button",
                    class: "btn btn-small btn-danger",
                    "data-revoke-consent": item.consentId,
                    "aria-label": t("citizen.revokeConsentLabel", {
                      service: serviceTitle(serviceByCode(item.service)) || item.service,
                    }),
                  },
                  t("citizen.revokeConsent"),
                )
              : null,
          ),
        ),
      ),
    );
  }

  async function loadConsents() {
    const token = page.token();
    const answer = await api("/v1/me/consents", { token });
    if (token !== page.token()) return;
    state.consents = answer.items ?? [];
    renderConsents();
  }

  /** Read what the part shows: the catalogue of services, the departments, my consents. */
  async function load() {
    listArea.setAttribute("aria-busy", "true");
    const [services, departments] = await Promise.all([
      state.services ? null : api("/v1/services").catch(() => null),
      loadDepartments(),
    ]);
    if (services) state.services = services.services ?? [];
    if (departments) state.departments = [...departments.values()];
    render();
    await loadConsents();
  }

  function render() {
    fillServices();
    fillDepartments();
    renderNeeds();
    renderGranted();
    if (state.consents) renderConsents();
  }

  /** Forget everything, the code above all (a logout). */
  function reset() {
    stopTimer();
    Object.assign(state, { consents: null, granted: null });
    form.reset();
    grantedArea.hidden = true;
    grantedArea.replaceChildren();
    listArea.replaceChildren();
    needsArea.replaceChildren();
  }

  serviceSelect.addEventListener("change", renderNeeds);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(errorBox);
    if (!serviceSelect.value) {
      showError(errorBox, "citizen.serviceMissing");
      serviceSelect.focus();
      return;
    }
    if (!departmentSelect.value) {
      showError(errorBox, "citizen.departmentMissing");
      departmentSelect.focus();
      return;
    }
    const minutes = Number(minutesInput.value);
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) {
      showError(errorBox, "citizen.minutesInvalid");
      minutesInput.focus();
      return;
    }
    const body = {
      service: serviceSelect.value,
      departmentId: Number(departmentSelect.value),
      mode: form.elements.mode.value,
      minutes,
    };
    await busy(submit, async () => {
      try {
        const consent = await api("/v1/me/consents", {
          method: "POST",
          token: page.token(),
          json: body,
        });
        stopTimer();
        state.granted = { consent };
        renderGranted();
        state.timer = window.setInterval(tick, 1000);
        grantedArea.scrollIntoView({ block: "nearest" });
      } catch (error) {
        page.fail(error);
        return;
      }
      await loadConsents().catch(page.fail);
      page.changed();
    });
  });

  listArea.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-revoke-consent]");
    if (!button) return;
    clearError(errorBox);
    const consentId = button.dataset.revokeConsent;
    await busy(button, async () => {
      try {
        await api(`/v1/me/consents/${encodeURIComponent(consentId)}`, {
          method: "DELETE",
          token: page.token(),
        });
      } catch (error) {
        page.fail(error);
        return;
      }
      if (state.granted?.consent.consentId === consentId) {
        stopTimer();
        state.granted = null;
        renderGranted();
      }
      page.say("citizen.consentRevoked");
      await loadConsents().catch(page.fail);
      page.changed();
    });
  });

  return { load, render, reset, serviceTitle: (code) => serviceTitle(serviceByCode(code)) };
}
