#!/usr/bin/env node
/*
 * A stand-in for the native `solc` command line, built on the npm `solc` module (soljson).
 *
 * It implements the part of the native CLI that py-solc-x (and tools such as slither or forge
 * driven through a solc path) rely on:
 *
 *   solc --version
 *       prints "solc, the solidity compiler commandline interface\nVersion: <version>"
 *   solc --standard-json [--base-path DIR] [--include-path DIR ...] [--allow-paths A,B] [FILE|-]
 *       reads standard JSON input from FILE or stdin and prints the output JSON, and nothing
 *       else, on stdout. Exit code 0 even when the JSON reports compilation errors (as the native
 *       compiler does); non-zero only when the wrapper itself cannot run.
 *
 * Imports that are not in the input JSON (and "urls" source entries) are loaded from disk the way
 * the native host filesystem loader does it: the source unit name is looked up under the base
 * path (the current directory when none is given) and then under each include path, and a file
 * is only read when its real path lies inside the base path, an include path or an --allow-paths
 * directory.
 *
 * Unknown options are ignored with a note on stderr. npm's own `solcjs` is not usable here: it
 * prints ">>> Cannot retry compilation with SMT ..." on stdout before the JSON and rejects
 * --allow-paths.
 */
'use strict';

const fs = require('fs');
const path = require('path');

// Anything the compiler module might print must not reach stdout: stdout carries the JSON only.
const writeStdout = process.stdout.write.bind(process.stdout);
for (const name of ['log', 'info', 'debug']) {
  console[name] = (...args) => console.error(...args);
}

const USAGE = `solc (npm solc wrapper) - supported modes:
  --version
  --standard-json [--base-path DIR] [--include-path DIR]... [--allow-paths DIR[,DIR...]] [FILE|-]
`;

// Native options that take a value: accepted and ignored (with a note) so that a caller passing
// them does not make the wrapper swallow the next argument as an input file.
const IGNORED_WITH_VALUE = new Set([
  '--output-dir', '-o', '--evm-version', '--optimize-runs', '--libraries', '--combined-json',
  '--metadata-hash', '--revert-strings', '--debug-info', '--stop-after', '--model-checker-engine',
  '--model-checker-targets', '--model-checker-timeout', '--model-checker-contracts',
  '--model-checker-solvers', '--model-checker-invariants', '--model-checker-ext-calls',
  '--yul-optimizations', '--eof-version',
]);

function parseArgs(argv) {
  const opts = {
    version: false,
    help: false,
    standardJson: false,
    basePath: null,
    includePaths: [],
    allowPaths: [],
    inputs: [],
    ignored: [],
  };
  for (let i = 0; i < argv.length; i += 1) {
    const raw = argv[i];
    let name = raw;
    let value = null;
    if (raw.startsWith('--') && raw.includes('=')) {
      name = raw.slice(0, raw.indexOf('='));
      value = raw.slice(raw.indexOf('=') + 1);
    }
    const takeValue = () => {
      if (value !== null) return value;
      if (i + 1 >= argv.length) {
        throw new UsageError(`option '${name}' needs a value`);
      }
      i += 1;
      return argv[i];
    };
    switch (name) {
      case '--version':
        opts.version = true;
        break;
      case '--help':
      case '-h':
        opts.help = true;
        break;
      case '--standard-json':
        opts.standardJson = true;
        break;
      case '--base-path':
        opts.basePath = takeValue();
        break;
      case '--include-path':
        opts.includePaths.push(takeValue());
        break;
      case '--allow-paths':
        opts.allowPaths.push(...takeValue().split(',').filter((p) => p !== ''));
        break;
      case '-':
        opts.inputs.push('-');
        break;
      default:
        if (name.startsWith('-')) {
          if (IGNORED_WITH_VALUE.has(name)) takeValue();
          opts.ignored.push(name);
        } else {
          opts.inputs.push(raw);
        }
    }
  }
  return opts;
}

class UsageError extends Error {}

function isInside(child, parent) {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function realOrResolved(p) {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

function makeImportCallback(opts) {
  const basePath = opts.basePath ? path.resolve(opts.basePath) : process.cwd();
  const includePaths = opts.includePaths.map((p) => path.resolve(p));
  const allowed = [basePath, ...includePaths, ...opts.allowPaths.map((p) => path.resolve(p))]
    .map(realOrResolved);

  return function importCallback(sourceUnitName) {
    const name = sourceUnitName.replace(/^file:\/\//, '');
    const candidates = [];
    if (path.isAbsolute(name) && !opts.basePath) {
      candidates.push(path.normalize(name));
    } else {
      const relative = name.replace(/^\/+/, '');
      candidates.push(path.join(basePath, relative));
      for (const prefix of includePaths) candidates.push(path.join(prefix, relative));
    }
    let denied = null;
    for (const candidate of candidates) {
      let stat;
      try {
        stat = fs.statSync(candidate);
      } catch {
        continue;
      }
      if (!stat.isFile()) continue;
      const real = realOrResolved(candidate);
      if (!allowed.some((dir) => isInside(real, dir))) {
        denied = candidate;
        continue;
      }
      try {
        return { contents: fs.readFileSync(real, 'utf8') };
      } catch (err) {
        return { error: `Cannot read file "${name}": ${err.message}` };
      }
    }
    if (denied !== null) {
      return {
        error: `File outside of allowed directories. The following are allowed: ${allowed
          .map((d) => `"${d}"`).join(', ')}.`,
      };
    }
    return { error: 'File not found. Searched the following locations: ' +
      candidates.map((c) => `"${path.dirname(c)}"`).join(', ') + '.' };
  };
}

function loadSolc() {
  // Required lazily: loading soljson takes a moment and --version should stay cheap enough.
  return require('solc');
}

function nativeStyleVersion(solc) {
  // "0.8.37+commit.f401782d.Emscripten.clang" -> "0.8.37+commit.f401782d.Linux.g++", the form the
  // native Linux build prints and that version parsers (py-solc-x, slither's crytic-compile) know.
  const full = solc.version();
  const m = /^(\d+\.\d+\.\d+(?:-[\w.]+)?\+commit\.[0-9a-f]+)/.exec(full);
  return m ? `${m[1]}.Linux.g++` : full;
}

function readInput(opts) {
  const inputs = opts.inputs.filter((f) => f !== '-');
  if (inputs.length > 1) {
    throw new UsageError('--standard-json takes at most one input file');
  }
  if (inputs.length === 1) return fs.readFileSync(inputs[0], 'utf8');
  return fs.readFileSync(0, 'utf8');
}

function main(argv) {
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`Error: ${err.message}\n${USAGE}`);
      return 1;
    }
    throw err;
  }
  for (const flag of opts.ignored) {
    process.stderr.write(`solc wrapper: ignoring option '${flag}'\n`);
  }
  if (opts.help) {
    writeStdout(USAGE);
    return 0;
  }
  if (opts.version) {
    const solc = loadSolc();
    writeStdout(`solc, the solidity compiler commandline interface\nVersion: ${nativeStyleVersion(solc)}\n`);
    return 0;
  }
  if (!opts.standardJson) {
    process.stderr.write(`Error: this wrapper supports only --version and --standard-json\n${USAGE}`);
    return 1;
  }
  let input;
  try {
    input = readInput(opts);
  } catch (err) {
    process.stderr.write(`Error: ${err.message}\n`);
    return 1;
  }
  const solc = loadSolc();
  const output = solc.compile(input, { import: makeImportCallback(opts) });
  writeStdout(output.endsWith('\n') ? output : `${output}\n`);
  return 0;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}

module.exports = { main, parseArgs, makeImportCallback };
