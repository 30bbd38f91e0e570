/**
 * @module test/replication/fuzz/stall-probe
 * The worst event-loop stall, two ways: the worst gap of a 5 ms interval beyond its period
 * (wall clock, as hostile-helpers.ts `loopProbe`), and the same gap counted only while this
 * process was running (its CPU time over the gap, capped by the gap).
 *
 * Why both: on a shared machine (2 cores, other test runs) the process is often descheduled
 * for hundreds of milliseconds, and the wall-clock gap then measures the machine, not the
 * victim. A stall the victim causes (a long synchronous loop) burns CPU for its whole length;
 * being descheduled burns none. `cpu` is what thresholds hold the victim to; `wall` is reported.
 */
import { performance } from 'node:perf_hooks'

export interface StallProbe {
  /** Stops the probe; the worst gaps so far (ms). */
  stop: () => { wall: number, cpu: number }
}

export function stallProbe (period = 5): StallProbe {
  let last = performance.now()
  let lastCpu = cpuMs()
  let wall = 0
  let cpu = 0
  const sample = (): void => {
    const now = performance.now()
    const used = cpuMs()
    const gap = now - last - period
    if (gap > 0) {
      wall = Math.max(wall, gap)
      // CPU time of every thread of the process (GC helpers too), so capped by the gap.
      cpu = Math.max(cpu, Math.min(gap, used - lastCpu - period))
    }
    last = now
    lastCpu = used
  }
  const t = setInterval(sample, period)
  return {
    stop: () => {
      sample()
      clearInterval(t)
      return { wall, cpu }
    }
  }
}

function cpuMs (): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
