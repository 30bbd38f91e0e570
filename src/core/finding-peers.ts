/**
 * @module core/finding-peers
 * `core.findingPeers()`: a hook telling the core that peer discovery is running, so
 * `update()`/`get()` can wait for it to finish before deciding nothing is out there. The
 * count lives on the shared core; each returned `done` counts down once.
 */
import type { Core } from './core.js'

export function findingPeers (core: Core): () => void {
  core.findingPeers++
  let done = false
  return () => {
    if (done) return
    done = true
    core.findingPeers--
    if (core.findingPeers === 0) core.replicator?.onFindingPeersDone?.()
  }
}
