import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'

const asked: { path: string; init?: unknown }[] = []
const replies: unknown[] = []
vi.mock('@/api/client', () => ({
  api: {
    GET: async (path: string, init?: unknown) => {
      asked.push({ path, init })
      return { data: replies.shift() ?? null, response: new Response(null, { status: 200 }) }
    },
  },
  unwrap: async (pending: Promise<{ data: unknown }>) => (await pending).data,
}))
const { useWallboardStore, rateTone, waitTone, intervalPoints } = await import('@/stores/wallboard')

const row = (group: string | null, offered: number, ofOffered: number | null, ofAnswered: number | null) => ({
  group,
  calls_offered: offered,
  calls_answered: offered,
  answered_within_threshold_of_offered: ofOffered,
  answered_within_threshold_of_answered: ofAnswered,
  average_speed_of_answer_s: 4,
  abandonment_rate: 0,
})
const board = {
  day: '2026-12-01',
  interval: '15min',
  answer_threshold_s: 12,
  totals: row(null, 3, 2 / 3, 1),
  intervals: [row('2026-12-01T09:15:00', 2, 0.5, 0.5), row('2026-12-01T09:30:00', 1, 1, 1)],
  callbacks: null,
  floor: { agents_by_state: { ready: 1 }, waiting: 0, longest_wait_s: null },
  calendar: null,
  problems: [],
}

beforeEach(() => {
  setActivePinia(createPinia())
  asked.length = 0
  replies.length = 0
  vi.useRealTimers()
})

describe('the wallboard store', () => {
  it('asks for the chosen interval and draws each as HH:MM with its rates in %', async () => {
    const wallboard = useWallboardStore()
    replies.push(board)
    await wallboard.setInterval('15min')
    expect(asked[0]).toEqual({ path: '/api/supervisor/wallboard', init: { params: { query: { interval: '15min' } } } })
    expect(wallboard.points).toEqual([
      { label: '09:15', offered: 2, withinOfOffered: 50, withinOfAnswered: 50 },
      { label: '09:30', offered: 1, withinOfOffered: 100, withinOfAnswered: 100 },
    ])
    expect(intervalPoints(null)).toEqual([])
  })

  it('reloads once after a burst of live events, not once per event', async () => {
    vi.useFakeTimers()
    const wallboard = useWallboardStore()
    for (let i = 0; i < 5; i++) wallboard.nudge(1000)
    await vi.advanceTimersByTimeAsync(1500)
    expect(asked).toHaveLength(1)
  })

  it('colours a rate against its floor from the pack and a wait against the answer limit', () => {
    expect(rateTone(0.85, 0.9)).toBe('bad')
    expect(rateTone(0.92, 0.9)).toBe('warn')
    expect(rateTone(0.99, 0.9)).toBe('good')
    expect(rateTone(null, 0.9)).toBe('none')
    expect(waitTone(13, 12)).toBe('bad')
    expect(waitTone(10, 12)).toBe('warn')
    expect(waitTone(3, 12)).toBe('good')
    expect(waitTone(3, null)).toBe('none')
  })
})
