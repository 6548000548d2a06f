import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'

const calls: { method: string; path: string; init?: unknown }[] = []
const replies: unknown[] = []
const reply = (method: string) => async (path: string, init?: unknown) => {
  calls.push({ method, path, init })
  return { data: replies.shift() ?? [], response: new Response(null, { status: 200 }) }
}
vi.mock('@/api/client', () => ({
  api: { GET: reply('GET'), POST: reply('POST') },
  unwrap: async (pending: Promise<{ data: unknown }>) => (await pending).data,
}))
const { useClocksStore, secondsLeft, elapsed } = await import('@/stores/clocks')

const clock = {
  id: 'd1',
  limit_key: 'complaint.reply',
  kind: 'reply' as const,
  state: 'open' as const,
  ticket_id: 't1',
  subject_id: 'c1',
  unit_id: 'HZ',
  ticket_type: 'complaint',
  opened_at: '2026-12-01T00:00:00Z',
  due_at: '2026-12-01T10:00:00Z',
  paused_since: null,
  seconds_left: 3600,
  elapsed: 0.9,
  pausable: true,
  chases: 0,
  last_chased_at: null,
}

beforeEach(() => {
  setActivePinia(createPinia())
  calls.length = 0
  replies.length = 0
})

describe('the clocks store', () => {
  it('asks for the kind and unit chosen, and lists the units it has seen', async () => {
    const clocks = useClocksStore()
    clocks.kind = 'reply'
    clocks.unit = 'HZ'
    replies.push([clock, { ...clock, id: 'd2', unit_id: 'NB' }, { ...clock, id: 'd3', unit_id: 'HZ' }])
    await clocks.load()
    expect(calls[0]).toEqual({ method: 'GET', path: '/api/supervisor/clocks', init: { params: { query: { kind: 'reply', unit_id: 'HZ' } } } })
    expect(clocks.units).toEqual(['HZ', 'NB'])
  })

  it('asks for the owner chosen and keeps every owner it has seen on offer', async () => {
    const clocks = useClocksStore()
    const crew = { ...clock, id: 'd2', owner: 'crew:c1', owner_name: '西湖抢修一班' }
    const department = { ...clock, id: 'd3', owner: 'department:s', owner_name: '客户服务中心' }
    replies.push([crew, department], [crew])
    await clocks.load()
    clocks.owner = 'crew:c1'
    await clocks.load()
    expect((calls[1].init as { params: { query: unknown } }).params.query).toEqual({ owner: 'crew:c1' })
    expect(clocks.clocks.map((c) => c.id)).toEqual(['d2'])
    expect(clocks.owners).toEqual([
      { key: 'department:s', name: '客户服务中心' },
      { key: 'crew:c1', name: '西湖抢修一班' },
    ])
  })

  it('chases, stops with a reason and restarts a clock, then reloads', async () => {
    const clocks = useClocksStore()
    replies.push({ reached: { service: 'casework', ok: true, status: 'transferred' } })
    expect(await clocks.chase(clock)).toEqual({ service: 'casework', ok: true, status: 'transferred' })
    await clocks.pause(clock, 'waiting_for_customer', '  ')
    await clocks.resume({ ...clock, state: 'paused' })
    expect(calls.filter((c) => c.method === 'POST')).toEqual([
      { method: 'POST', path: '/api/supervisor/breaches/{deadline_id}/chase', init: { params: { path: { deadline_id: 'd1' } }, body: { ticket_id: 't1', limit_key: 'complaint.reply' } } },
      { method: 'POST', path: '/api/supervisor/clocks/{deadline_id}/pause', init: { params: { path: { deadline_id: 'd1' } }, body: { reason: 'waiting_for_customer', note: null } } },
      { method: 'POST', path: '/api/supervisor/clocks/{deadline_id}/resume', init: { params: { path: { deadline_id: 'd1' } } } },
    ])
    expect(calls.filter((c) => c.method === 'GET')).toHaveLength(3)
  })

  it('counts a running clock down and holds a stopped one where it stopped', () => {
    const loaded = Date.parse('2026-12-01T09:00:00Z')
    expect(secondsLeft(clock, loaded, loaded + 90_000)).toBe(3510)
    expect(elapsed(clock, Date.parse('2026-12-01T05:00:00Z'))).toBe(0.5)
    const stopped = { ...clock, state: 'paused' as const, paused_since: '2026-12-01T02:00:00Z' }
    expect(secondsLeft(stopped, loaded, loaded + 90_000)).toBe(3600)
    expect(elapsed(stopped, Date.parse('2026-12-01T09:00:00Z'))).toBe(0.2)
  })
})
