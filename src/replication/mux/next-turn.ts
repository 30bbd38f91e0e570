/**
 * @module replication/mux/next-turn
 * Runs a callback on the event loop's next turn: after what is already due (timers, I/O,
 * rendering in a page) has had its chance, but without a timer's minimum delay
 * (`setTimeout(fn, 0)` waits about 1 ms in Node and up to 4 ms in a busy page, which would
 * idle a CPU-bound replication).
 *
 * Node (and other runtimes with `setImmediate`): `setImmediate`, whose callbacks run after
 * the I/O phase, with the timers phase before the next ones; a MessageChannel there is
 * polled with I/O and can keep timers waiting. Browsers: a shared MessageChannel, whose
 * messages are tasks the page schedules among its timers, input and rendering; one message
 * per turn, whatever the number of callbacks; `setTimeout` where neither exists. (A feature
 * check rather than a `*.browser.ts` pair, as storage/indexeddb/tick.ts does: the two differ
 * in this one choice only.)
 */
type Immediate = (fn: () => void) => unknown
const immediate = (globalThis as { setImmediate?: Immediate }).setImmediate

let port: MessagePort | null = null
let queue: Array<() => void> = []

function _deliver (): void {
  const run = queue
  queue = []
  for (const fn of run) fn()
}

/** Calls `fn` on the event loop's next turn. */
export function nextTurn (fn: () => void): void {
  if (immediate !== undefined) {
    immediate(fn)
    return
  }
  if (typeof MessageChannel === 'undefined') {
    setTimeout(fn, 0)
    return
  }
  if (port === null) {
    const c = new MessageChannel()
    c.port2.onmessage = _deliver
    port = c.port1
  }
  queue.push(fn)
  if (queue.length === 1) port.postMessage(null)
}
