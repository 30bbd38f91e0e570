/**
 * @module storage/indexeddb/tick
 * Runs a callback after the current task: the end of "one tick" that groups writes into one
 * transaction. Hypercore issues an append's writes across several promise hops, so a
 * microtask would split them; `setTimeout(0)` is clamped to ≥ 4 ms in nested timers, so a
 * MessageChannel message (browser) or `setImmediate` (Node) is used instead.
 */
type Task = () => void

let queue: Task[] = []
let channel: MessageChannel | null = null

export function nextMacrotask (fn: Task): void {
  const g = globalThis as { setImmediate?: (fn: Task) => unknown }
  if (typeof g.setImmediate === 'function') {
    g.setImmediate(fn)
    return
  }
  if (typeof MessageChannel === 'undefined') {
    setTimeout(fn, 0)
    return
  }
  if (channel === null) {
    channel = new MessageChannel()
    channel.port1.onmessage = () => {
      const tasks = queue
      queue = []
      for (const t of tasks) t()
    }
  }
  queue.push(fn)
  if (queue.length === 1) channel.port2.postMessage(null)
}
