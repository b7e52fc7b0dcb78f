// Stand-in for the optional `electron-webrtc` dependency of js-ipfs, put in place by the "overrides" of the
// repository's package.json. The test node is offline and uses no WebRTC transport, and the real
// package cannot be installed here: it pulls Electron (whose install script downloads a binary) and a GitHub tarball (electron-eval -> headless).
// ipfs-daemon imports it inside a try/catch and carries on without WebRTC when the import throws.
throw new Error('electron-webrtc is not installed: tools/ipfs-node/stubs/electron-webrtc replaces it (no WebRTC)')
