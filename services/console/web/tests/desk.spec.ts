import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'

// The store talks to the BFF only through the typed client: replace it with a scripted one.
const calls: { method: string; path: string; init?: unknown }[] = []
const answers = new Map<string, unknown>()
function respond(method: string) {
  return async (_path: string, init?: unknown) => {
    calls.push({ method, path: _path, init })
    const key = `${method} ${_path}`
    const data = answers.has(key) ? answers.get(key) : null
    return { data, response: new Response(null, { status: data === undefined ? 204 : 200 }) }
  }
}
vi.mock('@/api/client', () => ({
  api: {
    GET: (p: string, i?: unknown) => respond('GET')(p, i),
    POST: (p: string, i?: unknown) => respond('POST')(p, i),
    PUT: (p: string, i?: unknown) => respond('PUT')(p, i),
  },
  unwrap: async (pending: Promise<{ data: unknown }>) => (await pending).data,
  idempotencyKey: () => 'key-1',
}))

const { useDeskStore, newDraft, prefill } = await import('@/stores/desk')

const seat = (state: string, call_id: string | null = null) => ({
  agent_id: 'agent-1001',
  name: '王晓丽',
  staff_no: '1001',
  state,
  since: '2026-12-01T02:00:00Z',
  call_id,
  answered_today: 0,
})
const offer = { call_id: 'c-1', queue: '95598', rang_at: '2026-12-01T02:00:00Z', caller_number: '13905710001' }

beforeEach(() => {
  setActivePinia(createPinia())
  calls.length = 0
  answers.clear()
  vi.useFakeTimers()
})

describe('the desk store', () => {
  it('pops the caller card while the call rings', async () => {
    answers.set('GET /api/desk/state', { seat: seat('ringing', 'c-1'), offer, call: null })
    answers.set('GET /api/calls/{call_id}/card', {
      card: { caller_number: offer.caller_number, customers: [{ customer_id: '33', name: '李四' }], open_tickets: [], recent_tickets: [], active_outages: [], flags: {} },
      greeting: { opening: '您好', announcements: [], prompts: [], closing: '', closing_reminder: '', agent_notes: [] },
    })
    const desk = useDeskStore()
    await desk.refresh()
    await vi.runAllTimersAsync()
    expect(desk.offer?.call_id).toBe('c-1')
    expect(desk.card?.customers[0].name).toBe('李四')
    expect(desk.call).toBeNull()
  })

  it('restores the call, its script answers and typed fields after a reload', async () => {
    const saved = newDraft(offer, '2026-12-01T02:00:05Z')
    saved.ticketType = 'complaint'
    saved.answers = { complaint_subtype: 'service' }
    saved.form = { caller_name: '李四', description: '态度不好' }
    answers.set('GET /api/desk/state', { seat: seat('talking', 'c-1'), offer: null, call: offer, answered_at: saved.answeredAt })
    answers.set('GET /api/desk/draft', { call_id: 'c-1', data: saved, updated_at: 'x' })
    answers.set('POST /api/scripts/{ticket_type}/next', { script: 'complaint@1', prompt: '请问……', path: ['a', 'b'], choices: [], done: false })
    const desk = useDeskStore()
    await desk.refresh()
    expect(desk.call?.ticketType).toBe('complaint')
    expect(desk.call?.form.description).toBe('态度不好')
    const next = calls.find((c) => c.path === '/api/scripts/{ticket_type}/next')
    expect(next?.init).toMatchObject({ params: { path: { ticket_type: 'complaint' } }, body: { answers: { complaint_subtype: 'service' } } })
  })

  it('saves the draft after an answer to the script', async () => {
    answers.set('POST /api/scripts/{ticket_type}/next', { script: 'repair@1', key: 'fault_scope', is_field: true, choices: [], path: ['scope'], done: false })
    const desk = useDeskStore()
    desk.call = newDraft(offer, '2026-12-01T02:00:05Z')
    await desk.advance(false)
    await desk.answerStep('building')
    await vi.runAllTimersAsync()
    expect(desk.call.form.fault_scope).toBe('building')
    const put = calls.filter((c) => c.method === 'PUT' && c.path === '/api/desk/draft')
    expect(put).toHaveLength(1)
    expect(put[0].init).toMatchObject({ body: { call_id: 'c-1', data: { form: { fault_scope: 'building' } } } })
  })

  it('learns what the supervisor did with the escalation from the live stream', () => {
    const desk = useDeskStore()
    desk.call = newDraft(offer, null)
    desk.call.escalation = { id: 'e-1', reason: 'agitated', note: '', outcome: null }
    desk.onMessage({ kind: 'event', type: 'escalation.resolved', data: { escalation_id: 'e-1', outcome: 'taken_over' } })
    expect(desk.call.escalation?.outcome).toBe('taken_over')
  })

  it('times the ring against the answer limit, then the talk', () => {
    vi.setSystemTime(new Date('2026-12-01T02:00:13Z'))
    const desk = useDeskStore()
    desk.offer = offer
    desk.tick()
    expect(desk.ringSeconds).toBe(13)
    desk.offer = null
    desk.call = newDraft(offer, '2026-12-01T02:00:04Z')
    desk.tick()
    expect(desk.ringSeconds).toBe(4)
    expect(desk.talkSeconds).toBe(9)
  })

  it('promises the complaint reply by the deadline the SLA monitor opened', async () => {
    const desk = useDeskStore()
    desk.call = newDraft(offer, null)
    desk.call.ticketType = 'complaint'
    expect(desk.needsPromise).toBe(true)
    await desk.loadPromise() // nothing recorded yet: nothing asked
    expect(calls.some((c) => c.path.includes('reply-promise'))).toBe(false)
    desk.call.recorded = { id: 't-1', no: '1', ticket_type: 'complaint', status: 'recorded', recorded_at: 'x' }
    answers.set('GET /api/desk/tickets/{ticket_id}/reply-promise', { limit_key: 'complaint.reply', policy: 'seed', due_at: '2026-12-06T02:00:00Z' })
    await desk.loadPromise()
    expect(desk.call.promiseDue).toBe('2026-12-06T02:00:00Z')
    desk.call.recorded = null
    desk.call.ticketType = 'repair'
    expect(desk.needsPromise).toBe(false)
  })

  it('prefills the form from the directory without overwriting what was typed', () => {
    const draft = newDraft(offer, null)
    draft.form.caller_name = '王五'
    prefill(draft, {
      caller_number: '1',
      customers: [{ customer_id: '33', name: '李四', address: '文三路', area_code: null, meter_no: null, sensitive: false }],
      open_tickets: [],
      recent_tickets: [],
      active_outages: [],
      flags: { repeat_caller: false, sensitive_customer: false, harassing_number: false },
    })
    expect(draft.form).toMatchObject({ caller_name: '王五', address: '文三路', customer_number: '33', phone: offer.caller_number })
  })
})
