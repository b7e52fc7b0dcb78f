// The citizen page's access log (查询记录): every use of one's consents and records, and for an
// entry whose batch is anchored, a check in the browser that it is in the root on chain:
//
// 1. the proof's ``canonical`` text is the RFC 8785 form of its ``entry`` and that entry is the
//    one listed (its sequence number and action);
// 2. leaf = keccak256(keccak256(UTF-8 of the canonical text)): ``leaf_node`` of the entry's
//    hash, as ledger/documents/merkle.py makes a document hash a leaf;
// 3. each proof element is folded in with the pair hashed sorted, up to the root;
// 4. ``anchorOf(root)`` of the access-log contract, read by ``eth_call`` through POST /v1/rpc,
//    names a range holding the entry (an unknown root answers zeros).
//
// The service's answer is not trusted for any step it could fake: only the chain's word on the
// root counts, and the root is recomputed here.

// js-sha3 0.8.0 (MIT), vendored unchanged from the locked npm tree (ADR 0022): sets keccak256.
import "./vendor/js-sha3-0.8.0.min.js";
import {
  ApiError,
  api,
  busy,
  departmentLabel,
  describeError,
  el,
  formatDateTime,
  label,
  shortHash,
  t,
} from "./common.js";

const $ = (id) => document.getElementById(id);
const PAGE_SIZE = 50;
/** The 4-byte selector of ``anchorOf(bytes32)`` (contracts/AccessLogAnchors.sol). */
const ANCHOR_OF = () => window.keccak256("anchorOf(bytes32)").slice(0, 8);
const WORD = /^0x[0-9a-f]{64}$/;

// ---------------------------------------------------------------------------------------------
// The check (pure functions, exported for the page's tests through the browser)
// ---------------------------------------------------------------------------------------------

/** RFC 8785 (JCS) text of a JSON value made of objects, arrays, strings, integers, booleans and
 * null: keys sorted by UTF-16 code units, no whitespace, strings as JSON.stringify writes them. */
export function canonicalJson(value) {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function bytesOf(hex) {
  const clean = hex.startsWith("0x") ? hex.slice(2) : hex;
  const bytes = new Uint8Array(clean.length / 2);
  for (let i = 0; i < bytes.length; i += 1) bytes[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

const keccakHex = (input) => `0x${window.keccak256(input)}`;

/** The root ``proof`` leads to from the entry hash ``hash`` (both 0x hex, lower case). */
export function foldProof(hash, proof) {
  let node = keccakHex(bytesOf(hash));
  for (const sibling of proof) {
    const pair = node <= sibling ? node + sibling.slice(2) : sibling + node.slice(2);
    node = keccakHex(bytesOf(pair));
  }
  return node;
}

/** One of an entry's records: a hash or an id (shortened), or a word such as a reason. */
function recordText(record) {
  if (/^(0x)?[0-9a-f]{32,64}$/.test(record)) {
    return el("code", { class: "hash", title: record }, shortHash(record));
  }
  return el("span", { class: "access-word" }, label("forgery", record));
}

/** A moment of the API: ISO 8601 text, or seconds since the epoch. */
function moment(value) {
  return typeof value === "number" ? new Date(value * 1000).toISOString() : value;
}

class CheckFailed extends Error {
  constructor(key, values = {}) {
    super(key);
    this.key = key;
    this.values = values;
  }
}

/** Read ``anchorOf(root)`` through the service's read-only JSON-RPC endpoint. */
async function anchorOf(token, contract, root) {
  const answer = await api("/v1/rpc", {
    method: "POST",
    token,
    json: {
      jsonrpc: "2.0",
      id: 1,
      method: "eth_call",
      params: [{ to: contract, data: `0x${ANCHOR_OF()}${root.slice(2)}` }, "latest"],
    },
  });
  const result = String(answer?.result ?? "");
  if (answer?.error || !/^0x[0-9a-fA-F]{192}$/.test(result)) {
    throw new CheckFailed("access.checkChainUnread");
  }
  const word = (index) => BigInt(`0x${result.slice(2 + 64 * index, 66 + 64 * index)}`);
  return { firstSeq: word(0), lastSeq: word(1), anchoredAt: word(2) };
}

/** Check entry ``item`` against the chain; answers the anchor's facts or throws CheckFailed. */
export async function checkEntry(token, item) {
  const proof = await api(`/v1/me/access-log/${encodeURIComponent(item.seq)}/proof`, { token });
  const entry = proof?.entry;
  const canonical = String(proof?.canonical ?? "");
  let parsed;
  try {
    parsed = JSON.parse(canonical);
  } catch {
    throw new CheckFailed("access.checkCanonical");
  }
  if (canonicalJson(parsed) !== canonical || canonicalJson(entry) !== canonical) {
    throw new CheckFailed("access.checkCanonical");
  }
  if (entry.seq !== item.seq || entry.action !== item.action) {
    throw new CheckFailed("access.checkOtherEntry");
  }
  const siblings = (proof.proof ?? []).map((hex) => String(hex).toLowerCase());
  const root = String(proof.root ?? "").toLowerCase();
  if (!siblings.every((hex) => WORD.test(hex)) || !WORD.test(root)) {
    throw new CheckFailed("access.checkMalformed");
  }
  if (foldProof(keccakHex(canonical), siblings) !== root) {
    throw new CheckFailed("access.checkRoot");
  }
  const anchor = await anchorOf(token, proof.anchor?.contract, root);
  if (anchor.anchoredAt === 0n) throw new CheckFailed("access.checkNotOnChain");
  const seq = BigInt(item.seq);
  if (seq < anchor.firstSeq || seq > anchor.lastSeq) throw new CheckFailed("access.checkRange");
  return { root, anchoredAt: new Date(Number(anchor.anchoredAt) * 1000).toISOString() };
}

// ---------------------------------------------------------------------------------------------
// The part
// ---------------------------------------------------------------------------------------------

/** Wire the part; ``page`` as for consent.js. Answers ``load``, ``render``, ``reset``. */
export function accessLogPart(page) {
  const area = $("access-log");
  const more = $("access-more");
  const refresh = $("access-refresh");
  const status = $("access-check-status");
  const state = { items: null, nextCursor: null, checks: new Map() };

  const serviceName = (code) => page.serviceTitle?.(code) || code;

  function who(item) {
    if (!item.department) return t("access.byYou");
    const name = departmentLabel(item.department.id);
    return item.window ? t("access.byWindow", { department: name, window: item.window }) : name;
  }

  function checkLine(item) {
    const check = state.checks.get(item.seq);
    if (!check) return "";
    if (check.busy) return t("access.checking");
    if (check.ok) {
      return t("access.checkOk", { at: formatDateTime(check.ok.anchoredAt) });
    }
    return check.error;
  }

  function entry(item) {
    const check = state.checks.get(item.seq);
    const outcome = check?.ok ? "good" : check?.error ? "bad" : "none";
    return el(
      "li",
      { class: "card-item", "data-seq": item.seq, "data-action": item.action },
      el(
        "div",
        { class: "card-head" },
        el("span", { class: "card-title" }, label("accessAction", item.action)),
        el("span", { class: "card-time" }, formatDateTime(moment(item.at))),
      ),
      el("p", { class: "card-line access-who" }, who(item)),
      item.service
        ? el("p", { class: "card-line hint" }, t("access.service", { service: serviceName(item.service) }))
        : null,
      (item.records ?? []).length > 0
        ? el(
            "p",
            { class: "card-line hint access-records" },
            t("access.records"),
            " ",
            (item.records ?? []).map((record) => recordText(String(record))),
          )
        : null,
      el(
        "div",
        { class: "card-foot" },
        item.anchored
          ? el(
              "button",
              {
                type: "button",
                class: "btn btn-small",
                "data-check": item.seq,
                "aria-label": t("access.checkLabel", { seq: item.seq }),
              },
              t("access.check"),
            )
          : el("span", { class: "hint" }, t("access.notAnchored")),
        el(
          "span",
          { class: `check-result check-${outcome}` },
          checkLine(item),
          check?.ok
            ? [" ", t("access.checkRootLabel"), " ", el("code", { class: "hash", title: check.ok.root }, shortHash(check.ok.root))]
            : null,
        ),
      ),
    );
  }

  function render() {
    if (state.items === null) return;
    area.removeAttribute("aria-busy");
    more.hidden = !state.nextCursor;
    if (state.items.length === 0) {
      area.replaceChildren(el("p", { class: "empty" }, t("access.empty")));
      return;
    }
    area.replaceChildren(
      el(
        "ol",
        { class: "card-list", "aria-labelledby": "access-heading" },
        state.items.map(entry),
      ),
    );
  }

  async function load(fresh = true) {
    const token = page.token();
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (!fresh && state.nextCursor) query.set("cursor", state.nextCursor);
    area.setAttribute("aria-busy", "true");
    let answer;
    try {
      answer = await api(`/v1/me/access-log?${query}`, { token });
    } catch (error) {
      area.removeAttribute("aria-busy");
      // Not there yet on an older service: the part says so instead of failing the page.
      if (error instanceof ApiError && error.status === 404) {
        state.items = [];
        render();
        return;
      }
      throw error;
    }
    if (token !== page.token()) return;
    const items = answer?.items ?? [];
    state.items = fresh ? items : [...(state.items ?? []), ...items];
    state.nextCursor = answer?.nextCursor ?? null;
    render();
  }

  function reset() {
    Object.assign(state, { items: null, nextCursor: null, checks: new Map() });
    status.textContent = "";
    area.replaceChildren();
    more.hidden = true;
  }

  area.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-check]");
    if (!button) return;
    const seq = Number(button.dataset.check);
    const item = state.items?.find((candidate) => candidate.seq === seq);
    if (!item) return;
    state.checks.set(seq, { busy: true });
    render();
    let check;
    try {
      check = { ok: await checkEntry(page.token(), item) };
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        page.fail(error);
        return;
      }
      const text =
        error instanceof CheckFailed
          ? t(error.key, error.values)
          : error instanceof ApiError
            ? describeError(error).headline
            : t("access.checkChainUnread");
      check = { error: t("access.checkFailed", { reason: text }) };
    }
    state.checks.set(seq, check);
    render();
    // The entries are redrawn: one lasting status line says the outcome to a screen reader.
    status.textContent = checkLine(item);
    area.querySelector(`button[data-check="${seq}"]`)?.focus();
  });

  refresh.addEventListener("click", () => busy(refresh, () => load(true).catch(page.fail)));
  more.addEventListener("click", () => busy(more, () => load(false).catch(page.fail)));

  return { load, render, reset };
}
