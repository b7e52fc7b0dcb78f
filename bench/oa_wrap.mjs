// OpenAttestation's side of the wrap and verification throughput comparison (bench/batch.py).
//
// Usage: node bench/oa_wrap.mjs N SHAPE_JSON
//
// SHAPE_JSON is the sample document bench/batch.py also uses for its own certificates:
//   {"issuer": {...}, "fields": {"name": "value", ...}, "vary": ["name", ...]}
// Document i (0-based) is {"issuers": [issuer], ...fields}, with "-" and i (six digits) appended
// to every field named in "vary", so that the Python side builds exactly the same values.
//
// Timed, with process.hrtime.bigint() and after a warm-up on a small batch:
//   wrapSeconds        wrapDocuments (v2) over the N documents: per document a uuid v4 salt for
//                      every value, schema validation, the flattened leaf hashes and the target
//                      hash; then the Merkle tree over the N target hashes and every proof
//                      attached (in memory, like its CLI before writing files).
//   verifySeconds      verifySignature on every wrapped document (the in-memory objects that
//                      JSON.parse of the wrapped JSON gives): recompute the target hash, check
//                      the proof leads to the Merkle root. No network, no chain.
//   parseVerifySeconds JSON.parse of each wrapped document's JSON text, then verifySignature: the
//                      same starting point as bench/batch.py's verification (the text in memory).
// Not timed: building the raw documents, JSON.stringify of the wrapped ones. Prints one JSON
// object on stdout: {n, wrapSeconds, verifySeconds, parseVerifySeconds, version}.

import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(import.meta.url);
const oa = require("@govtechsg/open-attestation");
const oaVersion = JSON.parse(
  readFileSync(require.resolve("@govtechsg/open-attestation/package.json"), "utf8"),
).version;

function fail(message) {
  process.stderr.write(`oa_wrap.mjs: ${message}\n`);
  process.exit(2);
}

const [nArg, shapeArg] = process.argv.slice(2);
const n = Number.parseInt(nArg ?? "", 10);
if (!Number.isSafeInteger(n) || n < 1) fail("usage: node bench/oa_wrap.mjs N SHAPE_JSON");
let shape;
try {
  shape = JSON.parse(shapeArg ?? "");
} catch {
  fail("SHAPE_JSON is not JSON");
}
if (typeof shape?.issuer !== "object" || typeof shape?.fields !== "object") {
  fail('SHAPE_JSON needs "issuer" and "fields" objects');
}
const vary = new Set(shape.vary ?? []);

function documents(count) {
  const docs = new Array(count);
  for (let i = 0; i < count; i += 1) {
    const suffix = `-${String(i).padStart(6, "0")}`;
    const doc = { issuers: [structuredClone(shape.issuer)] };
    for (const [name, value] of Object.entries(shape.fields)) {
      doc[name] = vary.has(name) ? `${value}${suffix}` : value;
    }
    docs[i] = doc;
  }
  return docs;
}

function seconds(start) {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function run(count) {
  const raw = documents(count);
  let start = process.hrtime.bigint();
  const wrapped = oa.wrapDocuments(raw);
  const wrapSeconds = seconds(start);
  if (wrapped.length !== count) fail("wrapDocuments returned the wrong number of documents");
  const texts = wrapped.map((doc) => JSON.stringify(doc));

  start = process.hrtime.bigint();
  const parsed = new Array(count);
  let valid = 0;
  for (let i = 0; i < count; i += 1) {
    parsed[i] = JSON.parse(texts[i]);
    if (oa.verifySignature(parsed[i])) valid += 1;
  }
  const parseVerifySeconds = seconds(start);
  if (valid !== count) fail(`verifySignature refused ${count - valid} of ${count} documents`);

  start = process.hrtime.bigint();
  valid = 0;
  for (let i = 0; i < count; i += 1) {
    if (oa.verifySignature(parsed[i])) valid += 1;
  }
  const verifySeconds = seconds(start);
  if (valid !== count) fail(`verifySignature refused ${count - valid} of ${count} documents`);
  return { wrapSeconds, verifySeconds, parseVerifySeconds };
}

run(Math.min(n, 200)); // warm-up: JIT, schema compilation, module loading
const result = run(n);
process.stdout.write(`${JSON.stringify({ n, ...result, version: oaVersion })}\n`);
