/**
 * @module test/replication/fuzz/profiles
 * What a hostile peer is like: the weights of its moves and of its kinds of answers, and the
 * story its syncs tell. Chaos mixes everything; the others keep at one attack long enough for
 * it to matter, which random mixing rarely does (a liar that re-claims without ever
 * acknowledging held `update()` only while it kept at it).
 */
import type { Rng } from './random.js'

export type Move = 'sync' | 'request' | 'cancel' | 'answer' | 'noData' | 'unasked' | 'conflictData' | 'want' | 'unwant' |
  'bitfield' | 'range' | 'extension' | 'control' | 'closeChannel' | 'repeat' | 'burst' | 'deaf' | 'pause'

/** How a request of the victim is answered: the writer's proof, a tampered one, or no proof. */
export type AnswerKind = 'genuine' | 'tampered' | 'noData' | 'empty' | 'otherFork'

export interface Profile {
  name: string
  moves: Partial<Record<Move, number>>
  answers: Partial<Record<AnswerKind, number>>
  /** How often a sync tells its story (its claim, fork 0, canUpgrade) rather than anything. */
  consistency: number
  /** How often a `range` claims every block there is (so the victim asks it for blocks). */
  claimAll: number
  /** How often its syncs acknowledge the victim's length (unset: always, mostly or never, drawn per peer). */
  ackRate?: number
  /** Longest silence of a `pause` move (ms). */
  pauseMs: number
}

/** What its syncs claim: the writer's length, a little more, far more, or anything. */
export type Claim = 'writer' | 'longer' | 'huge' | 'random'

const PROFILES: Profile[] = [
  {
    name: 'chaos',
    moves: { sync: 10, request: 7, cancel: 3, answer: 14, noData: 4, unasked: 0.3, conflictData: 1, want: 5, unwant: 2, bitfield: 5, range: 8, extension: 3, control: 3, closeChannel: 0.4, repeat: 4, burst: 3, deaf: 1.5, pause: 2 },
    answers: { genuine: 4, tampered: 5, noData: 2, empty: 1, otherFork: 0.5 },
    consistency: 0.8,
    claimAll: 0.2,
    pauseMs: 300
  },
  // Claims and re-claims; answers what it is asked with the writer's proofs (of less than it claimed).
  { name: 'liar', moves: { sync: 20, answer: 6, range: 2, want: 1, extension: 1, pause: 4 }, answers: { genuine: 8, noData: 1 }, consistency: 1, claimAll: 0.3, pauseMs: 60 },
  // Claims everything, answers nothing, sometimes stops reading.
  { name: 'staller', moves: { sync: 6, range: 6, bitfield: 4, want: 1, deaf: 1, pause: 6 }, answers: {}, consistency: 1, claimAll: 0.6, pauseMs: 300 },
  {
    name: 'flooder',
    moves: { sync: 2, request: 8, cancel: 3, want: 6, unwant: 3, bitfield: 6, range: 6, extension: 3, control: 2, repeat: 6, burst: 6, deaf: 2 },
    answers: {},
    consistency: 0.8,
    claimAll: 0.1,
    pauseMs: 300
  },
  // Acknowledges and claims, so it is asked; answers with tampered proofs.
  { name: 'forger', moves: { sync: 4, range: 4, answer: 16, conflictData: 2, noData: 2, pause: 1 }, answers: { tampered: 8, genuine: 1, empty: 1, otherFork: 1 }, consistency: 0.9, claimAll: 0.6, ackRate: 1, pauseMs: 300 }
]

/** A peer's character, drawn from its generator: chaos half the time. */
export function drawProfile (rng: Rng): { profile: Profile, ackRate: number, claim: Claim } {
  const profile = PROFILES[Number(rng.weighted({ 0: 4, 1: 1, 2: 1, 3: 1, 4: 1 }))]!
  const ackRate = rng.pick([0, 0.6, 1])
  return { profile, ackRate: profile.ackRate ?? ackRate, claim: rng.pick(['writer', 'longer', 'huge', 'random'] as const) }
}
