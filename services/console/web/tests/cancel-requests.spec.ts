import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import ElementPlus from 'element-plus'

// The BFF as the 申请撤单 panel meets it: the board with one crew's request to cancel, a grant (the
// dispatcher's cancellation) and a refusal dispatch refuses (409: no request waits) whenever
// `refuse` is set.
const calls: { method: string; path: string; body?: unknown }[] = []
let refuse: { status: number; detail: string } | null = null
const asked = {
  id: 'o7',
  ticket_id: 't7',
  ticket_no: 'GD202612070007',
  unit_id: 'unit-east',
  crew_id: 'crew-1',
  status: 'en_route',
  cancel_reason: '客户来电告知已自行恢复供电',
  cancel_requested_at: '2026-12-07T02:00:00Z',
  waiting_seconds: 65,
}
const board = () => ({
  crews: [{ crew_id: 'crew-1', unit_id: 'unit-east', name: '抢修一队', on_duty: true, latitude: null, longitude: null, open_orders: 1 }],
  orders: [],
  incidents: [],
  needs_routing: [],
  units: [{ unit_id: 'unit-east', name: '东区抢修班' }],
  awaiting_review: [],
  cancel_requests: [asked],
  problems: [],
})

vi.mock('@/api/client', () => {
  class ApiError extends Error {
    constructor(
      readonly status: number,
      readonly problem: { detail?: string },
    ) {
      super(problem.detail ?? `HTTP ${status}`)
    }
  }
  const answer = (method: string) => async (path: string, init?: { body?: unknown; params?: { path?: Record<string, string> } }) => {
    calls.push({ method, path, body: init?.body ?? init?.params?.path })
    if (method === 'POST' && refuse) return { error: { detail: refuse.detail }, response: new Response(null, { status: refuse.status }) }
    return { data: method === 'GET' ? board() : {}, response: new Response(null, { status: 200 }) }
  }
  return {
    ApiError,
    api: { GET: answer('GET'), POST: answer('POST') },
    unwrap: async (pending: Promise<{ data?: unknown; error?: { detail?: string }; response: Response }>) => {
      const { data, error, response } = await pending
      if (!response.ok) throw new ApiError(response.status, error ?? {})
      return data
    },
  }
})

const { i18n } = await import('@/i18n')
const { useDispatchStore } = await import('@/stores/dispatch')
const CancelRequests = (await import('@/components/board/CancelRequests.vue')).default

async function mountPanel(now: number) {
  const pinia = createPinia()
  setActivePinia(pinia)
  const dispatch = useDispatchStore()
  await dispatch.load()
  dispatch.loadedAt = now
  calls.length = 0
  const wrapper = mount(CancelRequests, { props: { now }, global: { plugins: [pinia, i18n, ElementPlus] } })
  await flushPromises()
  return { dispatch, wrapper }
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  refuse = null
  calls.length = 0
})

describe("the crews' requests to cancel (申请撤单)", () => {
  it('lists each request with its crew, status, reason and wait, and counts them on the title', async () => {
    const { wrapper } = await mountPanel(Date.now())
    const text = wrapper.text()
    for (const shown of ['撤单申请', 'GD202612070007', '抢修一队', '客户来电告知已自行恢复供电', '01:05']) {
      expect(text).toContain(shown)
    }
    expect(text).not.toMatch(/en_route|crew-1/)
    expect(wrapper.find('[data-test=cancel-requests-count]').text()).toContain('1')
  })

  it("grants with the crew's reason, which the customer hears, then reloads the board", async () => {
    const { wrapper } = await mountPanel(Date.now())
    await wrapper.find('[data-test=cancel-request-grant]').trigger('click')
    await flushPromises()
    const text = wrapper.find('textarea[data-test=cancel-request-text]')
    expect((text.element as HTMLTextAreaElement).value).toBe('客户来电告知已自行恢复供电')
    await wrapper.find('[data-test=cancel-request-confirm]').trigger('click')
    await flushPromises()
    expect(calls.map((c) => [c.method, c.path, c.body])).toEqual([
      ['POST', '/api/supervisor/dispatch/work-orders/{work_order_id}/cancellation', { reason: '客户来电告知已自行恢复供电' }],
      ['GET', '/api/supervisor/dispatch/board', undefined],
    ])
  })

  it('refuses only with a reason, and shows why dispatch refused while the dialog stays open', async () => {
    const { wrapper } = await mountPanel(Date.now())
    await wrapper.find('[data-test=cancel-request-refuse]').trigger('click')
    await flushPromises()
    const confirm = () => wrapper.find('[data-test=cancel-request-confirm]')
    expect(confirm().attributes('disabled')).toBeDefined()
    await wrapper.find('textarea[data-test=cancel-request-text]').setValue(' 客户再次来电仍无电 ')
    expect(confirm().attributes('disabled')).toBeUndefined()
    refuse = { status: 409, detail: 'no request to cancel waits' }
    await confirm().trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-test=cancel-request-error]').text()).toContain('no request to cancel waits')
    expect(calls.map((c) => [c.method, c.path, c.body])).toEqual([
      ['POST', '/api/supervisor/dispatch/work-orders/{work_order_id}/cancellation-refusal', { reason: '客户再次来电仍无电' }],
      ['GET', '/api/supervisor/dispatch/board', undefined],
    ])
  })
})
