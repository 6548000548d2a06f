import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'

// The stores talk to the BFF only through the typed client: replace it with a scripted one.
const calls: { method: string; path: string; init?: unknown }[] = []
const answers = new Map<string, unknown[]>()
function respond(method: string) {
  return async (path: string, init?: unknown) => {
    calls.push({ method, path, init })
    const queue = answers.get(`${method} ${path}`) ?? []
    const data = queue.length > 1 ? queue.shift() : queue[0]
    return { data, response: new Response(null, { status: 200 }) }
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

const { classify, searchQuery, useRecordsStore } = await import('@/stores/records')
const { matchAreas, useLookupStore } = await import('@/stores/lookup')
const { useWorklistStore, PAGE_SIZE } = await import('@/stores/worklist')
const { useDeskStore, newDraft } = await import('@/stores/desk')

const noFilters = { types: [], status: '', days: null }
const ticket = (no: string) => ({ ticket_id: `id-${no}`, ticket_no: no, has_breached: false, confidential: false, identity_hidden: false })

beforeEach(() => {
  setActivePinia(createPinia())
  calls.length = 0
  answers.clear()
})

describe('the search box', () => {
  it('reads what was typed as a ticket number, a phone in any format, an address or a name', () => {
    expect(classify('2026120100000119')).toBe('ticket_no')
    expect(classify('+86 139-0571-0001')).toBe('phone')
    expect(classify('0571-87654321')).toBe('phone')
    expect(classify('文三路100号')).toBe('address')
    expect(classify('李四')).toBe('name')
  })

  it('sends the chosen field and the filters', () => {
    expect(searchQuery(' 李 ', 'address', { types: ['repair'], status: 'completed', days: ['2026-11-01', '2026-11-30'] })).toEqual({
      address: '李',
      ticket_type: ['repair'],
      status: 'completed',
      recorded_from: '2026-11-01',
      recorded_to: '2026-11-30',
    })
    expect(searchQuery('', 'auto', noFilters)).toEqual({})
  })

  it('pages on with the cursor records gave, keeping the same question', async () => {
    answers.set('GET /api/records/tickets', [
      { items: [ticket('1'), ticket('2')], next_cursor: 'c2' },
      { items: [ticket('3')], next_cursor: null },
    ])
    const records = useRecordsStore()
    records.text = '13905710001'
    await records.search()
    records.text = 'changed meanwhile'
    await records.more()
    expect(records.items.map((t) => t.ticket_no)).toEqual(['1', '2', '3'])
    expect(records.nextCursor).toBeNull()
    expect(calls[1].init).toMatchObject({ params: { query: { phone: '13905710001', cursor: 'c2' } } })
  })

  it('opens a ticket timeline and closes it', async () => {
    answers.set('GET /api/records/tickets/{ticket_id}/timeline', [{ ticket: ticket('1'), entries: [] }])
    const records = useRecordsStore()
    await records.open('id-1')
    expect(records.timeline?.ticket.ticket_no).toBe('1')
    expect(calls[0].init).toMatchObject({ params: { path: { ticket_id: 'id-1' } } })
    records.close()
    expect(records.timeline).toBeNull()
  })
})

describe('the unknown caller and the address', () => {
  const areas = [
    { area_code: 'HZ-XH-02', unit_id: 'u', name: null },
    { area_code: 'HZ-XH-01', unit_id: 'u', name: '文三街道' },
    { area_code: 'HZ-SC-01', unit_id: 'u', name: '幸福里小区' },
  ]

  it('matches areas by name or code, named ones first', () => {
    expect(matchAreas(areas, '幸福').map((a) => a.area_code)).toEqual(['HZ-SC-01'])
    expect(matchAreas(areas, 'hz-xh').map((a) => a.area_code)).toEqual(['HZ-XH-01', 'HZ-XH-02'])
    expect(matchAreas(areas, '')).toHaveLength(3)
  })

  it('names an area by its name, once loaded', async () => {
    answers.set('GET /api/service-areas', [areas])
    const lookup = useLookupStore()
    await lookup.loadAreas()
    expect(lookup.areaName('HZ-SC-01')).toBe('幸福里小区')
  })

  it('finds customers only from two characters on', async () => {
    answers.set('GET /api/customers', [[{ customer_id: '3300000002', name: '王五', phones: [] }]])
    const lookup = useLookupStore()
    await lookup.findCustomers('王')
    expect(calls).toHaveLength(0)
    await lookup.findCustomers(' 王五 ')
    expect(lookup.found[0].customer_id).toBe('3300000002')
    expect(calls[0].init).toMatchObject({ params: { query: { q: '王五' } } })
  })

  it('links the call to the found customer: the card and the form become theirs, the draft keeps the link', async () => {
    const card = {
      caller_number: '13900000000',
      customers: [{ customer_id: '3300000002', name: '王五', address: '幸福里3幢', area_code: 'HZ-SC-01', meter_no: null, sensitive: false }],
      open_tickets: [],
      recent_tickets: [],
      active_outages: [],
      flags: { repeat_caller: false, sensitive_customer: false, harassing_number: false },
    }
    answers.set('POST /api/customers/link', [card])
    const desk = useDeskStore()
    desk.call = newDraft({ call_id: 'c-9', queue: '95598', rang_at: '2026-12-01T02:00:00Z', caller_number: '13900000000' }, null)
    expect(await desk.linkCustomer('3300000002')).toBe(true)
    expect(calls[0].init).toMatchObject({ body: { customer_id: '3300000002', call_id: 'c-9' } })
    expect(desk.card?.customers[0].name).toBe('王五')
    expect(desk.call.form).toMatchObject({ caller_name: '王五', address: '幸福里3幢', area_code: 'HZ-SC-01' })
    expect(desk.call.linkedCustomer).toBe('3300000002')
  })
})

describe('the whole callback worklist', () => {
  it('pages through the waiting tasks and starts again at page one on a new filter', async () => {
    answers.set('GET /api/callbacks/waiting', [{ items: [], total: 25 }])
    const worklist = useWorklistStore()
    await worklist.goTo(3)
    expect(calls[0].init).toMatchObject({ params: { query: { limit: PAGE_SIZE, offset: 2 * PAGE_SIZE, due: 'all' } } })
    await worklist.filter('repair', true)
    expect(worklist.page).toBe(1)
    expect(calls[1].init).toMatchObject({ params: { query: { ticket_type: 'repair', due: 'overdue', offset: 0 } } })
    expect(worklist.total).toBe(25)
  })
})
