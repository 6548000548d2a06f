// The supervisor's wallboard: the day's service level as the SLA monitor computes it (totals and
// 15/30-minute intervals), callbacks per unit with the month-end projection, the floor and the
// calendar's horizon. Reloaded on live events (the monitor counts a call a moment after the
// switch reports it, so a reload follows each burst of events once it has settled).
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api, unwrap, type Schemas } from '@/api/client'

export type Board = Schemas['WallboardRead']
export type Interval = Board['interval']
export type Tone = 'good' | 'warn' | 'bad' | 'none'

// The callback service's unit for tickets finished with no unit named: consultations the agent
// answered and completed on the call (callback handlers.UNASSIGNED_UNIT). Shown as what it is,
// not as the id "unassigned".
export const ANSWERED_ON_THE_CALL = 'unassigned'
export const AGENT_STATES = ['ready', 'talking', 'ringing', 'wrap_up', 'not_ready', 'offline'] as const

/** How a rate stands against its floor from the pack: below it is bad, within 5 points warns. */
export function rateTone(value: number | null | undefined, floor: number | null | undefined): Tone {
  if (value === null || value === undefined || floor === null || floor === undefined) return 'none'
  if (value < floor) return 'bad'
  return value < floor + 0.05 ? 'warn' : 'good'
}

/** How a wait stands against the pack's call.answer limit (12 s in the seed). */
export function waitTone(seconds: number | null | undefined, limit: number | null | undefined): Tone {
  if (seconds === null || seconds === undefined || !limit) return 'none'
  if (seconds > limit) return 'bad'
  return seconds > limit * 0.75 ? 'warn' : 'good'
}

export interface IntervalPoint {
  label: string
  offered: number
  withinOfOffered: number | null
  withinOfAnswered: number | null
}

/** The chart's points: each interval's local start as HH:MM and its two 12-second rates in %. */
export function intervalPoints(board: Board | null): IntervalPoint[] {
  const pct = (v: number | null | undefined) => (v === null || v === undefined ? null : Math.round(v * 1000) / 10)
  return (board?.intervals ?? []).map((row) => ({
    label: (row.group ?? '').slice(11, 16),
    offered: row.calls_offered,
    withinOfOffered: pct(row.answered_within_threshold_of_offered),
    withinOfAnswered: pct(row.answered_within_threshold_of_answered),
  }))
}

export const useWallboardStore = defineStore('wallboard', () => {
  const board = ref<Board | null>(null)
  const interval = ref<Interval>('30min')
  const loading = ref(false)
  const error = ref<string | null>(null)
  let pending: ReturnType<typeof setTimeout> | null = null

  async function load(): Promise<void> {
    loading.value = true
    try {
      board.value = await unwrap(api.GET('/api/supervisor/wallboard', { params: { query: { interval: interval.value } } }))
      error.value = null
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e)
    } finally {
      loading.value = false
    }
  }

  /** A live event arrived: reload once the burst has settled, not once per event. */
  function nudge(settle = 1500): void {
    if (pending) clearTimeout(pending)
    pending = setTimeout(() => {
      pending = null
      void load()
    }, settle)
  }

  async function setInterval(next: Interval): Promise<void> {
    interval.value = next
    await load()
  }

  const points = computed(() => intervalPoints(board.value))
  const callbackTarget = computed(() => board.value?.callbacks?.target ?? null)

  return { board, interval, loading, error, points, callbackTarget, load, nudge, setInterval }
})
