'use strict'
// The load generator of bench/http.py: autocannon (npm), with latency percentiles kept at the
// resolution autocannon measures (fractions of a millisecond). autocannon's own percentiles come
// from a histogram of whole milliseconds (4.9 ms counts as 4), too coarse for a 5 ms target.
//
// Usage: node bench/loadgen.js URL CONNECTIONS SECONDS [BODY]
// With BODY, each request is a POST of BODY as application/json; else a GET.
// Prints one JSON object: rate (mean requests a second), total, errors, p50, p99, mean, max (ms).

const autocannon = require('autocannon')

const [url, connections, seconds, body] = process.argv.slice(2)
const options = {
  url,
  connections: Number(connections),
  duration: Number(seconds)
}
if (body !== undefined) {
  options.method = 'POST'
  options.headers = { 'content-type': 'application/json' }
  options.body = body
}

const latencies = []
const instance = autocannon(options, (error, result) => {
  if (error) {
    console.error(`loadgen: ${error.message}`)
    process.exit(1)
  }
  latencies.sort((a, b) => a - b)
  const rank = (p) => latencies.length ? latencies[Math.max(0, Math.ceil(p / 100 * latencies.length) - 1)] : NaN
  const sum = latencies.reduce((total, value) => total + value, 0)
  process.stdout.write(JSON.stringify({
    rate: result.requests.average,
    total: result.requests.total,
    errors: result.errors + result.timeouts + result.non2xx,
    p50: rank(50),
    p99: rank(99),
    mean: latencies.length ? sum / latencies.length : NaN,
    max: latencies.length ? latencies[latencies.length - 1] : NaN
  }) + '\n')
})
instance.on('response', (client, statusCode, bytes, responseTime) => {
  latencies.push(responseTime)
})
