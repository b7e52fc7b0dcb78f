// Promise.withResolvers (ES2024) for Node 20, loaded with `node --require`.
//
// js-ipfs 0.66.1 resolves `mortice` to a 3.x release (and `it-queue`, `abort-error` alongside it)
// that calls Promise.withResolvers, which V8 only ships from Node 22. Without it the repo lock
// throws "Promise.withResolvers is not a function" the first time the node takes a lock. The
// shim follows the specification: a fresh promise and its two settle functions.
'use strict'

if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    enumerable: false,
    value: function withResolvers () {
      let resolve
      let reject
      const promise = new this((res, rej) => {
        resolve = res
        reject = rej
      })
      return { promise, resolve, reject }
    }
  })
}
