import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'

const calls: { method: string; path: string; init?: unknown }[] = []
const reply = (method: string) => async (path: string, init?: unknown) => {
  calls.push({ method, path, init })
  return { data: { crews: [], orders: [], incidents: [], needs_routing: [], problems: [] }, response: new Response(null, { status: 200 }) }
}
vi.mock('@/api/client', () => ({
  api: { GET: reply('GET'), POST: reply('POST'), PUT: reply('PUT') },
  unwrap: async (pending: Promise<{ data: unknown }>) => (await pending).data,
}))
const { useDispatchStore, mapPoints, arrivalLeft } = await import('@/stores/dispatch')

beforeEach(() => {
  setActivePinia(createPinia())
  calls.length = 0
})

describe('the dispatcher board', () => {
  it('maps crews, loose orders and incidents that have positions (an order in an incident shows as the incident)', () => {
    const points = mapPoints({
      crews: [
        { crew_id: 'c1', unit_id: 'U', name: '西湖一队', on_duty: true, latitude: 30.27, longitude: 120.15, open_orders: 0 },
        { crew_id: 'c2', unit_id: 'U', name: '无位置', on_duty: true, latitude: null, longitude: null, open_orders: 0 },
      ],
      orders: [
        { id: 'o1', ticket_id: 't1', ticket_no: 'GD202612010001', unit_id: 'U', status: 'created', latitude: 30.1, longitude: 120.1 },
        { id: 'o2', ticket_id: 't2', unit_id: 'U', status: 'created', incident_id: 'i1', latitude: 30.2, longitude: 120.2 },
      ],
      incidents: [{ id: 'i1', status: 'active', transformer_id: 'T7', feeder_id: 'F1', latitude: 30.2, longitude: 120.2, linked_ticket_ids: [], graph: { nodes: [], links: [] } }],
      needs_routing: [],
      units: [],
      awaiting_review: [],
      cancel_requests: [],
      problems: [],
    })
    expect(points.map((p) => [p.kind, p.id, p.value])).toEqual([
      ['crew', 'c1', [120.15, 30.27]],
      ['order', 'o1', [120.1, 30.1]],
      ['incident', 'i1', [120.2, 30.2]],
    ])
    // An order is named by its 工单号, never by the ticket's id.
    expect(points.find((p) => p.kind === 'order')?.name).toBe('GD202612010001')
  })

  it('hands each act to the console with its reason, then reloads the board', async () => {
    const dispatch = useDispatchStore()
    await dispatch.restore('i1', ' ')
    await dispatch.cancel('o1', '重复报修')
    await dispatch.reassign('o1', 'c2', '就近')
    await dispatch.route('o3', 'U9', 'rural', '新小区')
    await dispatch.approveReturn('o4', '  ')
    await dispatch.sendBackReturn('o5', ' 未写明故障原因 ')
    expect(calls.filter((c) => c.method !== 'GET').map((c) => [c.path, (c.init as { body: unknown }).body])).toEqual([
      ['/api/supervisor/dispatch/incidents/{incident_id}/restoration', { cause: null }],
      ['/api/supervisor/dispatch/work-orders/{work_order_id}/cancellation', { reason: '重复报修' }],
      ['/api/supervisor/dispatch/work-orders/{work_order_id}/assignment', { crew_id: 'c2', reason: '就近' }],
      ['/api/supervisor/dispatch/work-orders/{work_order_id}/routing', { unit_id: 'U9', area_class: 'rural', reason: '新小区' }],
      ['/api/supervisor/dispatch/work-orders/{work_order_id}/return-approval', { note: null }],
      ['/api/supervisor/dispatch/work-orders/{work_order_id}/return-send-back', { reason: '未写明故障原因' }],
    ])
    expect(calls.filter((c) => c.method === 'GET')).toHaveLength(6)
  })

  it("counts an order's arrival limit down from what the console said, on the browser's own elapsed time", () => {
    const order = { id: 'o1', ticket_id: 't1', unit_id: 'U', status: 'assigned', arrival_seconds_left: 30 }
    expect(arrivalLeft(order, 1_000_000, 1_000_000)).toBe(30)
    expect(arrivalLeft(order, 1_000_000, 1_045_000)).toBe(-15)
    expect(arrivalLeft({ ...order, arrival_seconds_left: null }, 1_000_000, 1_045_000)).toBeNull()
  })
})
