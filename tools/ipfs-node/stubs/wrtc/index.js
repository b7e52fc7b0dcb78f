// Stand-in for the optional `wrtc` dependency of js-ipfs, put in place by the "overrides" of the
// repository's package.json. The test node is offline and uses no WebRTC transport, and the real
// package cannot be installed here: its install script downloads a prebuilt native binary.
// ipfs-daemon imports it inside a try/catch and carries on without WebRTC when the import throws.
throw new Error('wrtc is not installed: tools/ipfs-node/stubs/wrtc replaces it (no WebRTC)')
