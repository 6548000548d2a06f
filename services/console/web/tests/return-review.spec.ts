import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import ElementPlus from 'element-plus'

// The BFF as the review panel meets it: the board, the site photos of a return (`photos`, or
// a refusal when `photosRefused`), a pass, and a send-back dispatch refuses (409: the return is
// no longer waiting for review) whenever `refuse` is set.
const calls: { method: string; path: string; body?: unknown }[] = []
let refuse: { status: number; detail: string } | null = null
const PHOTOS = '/api/supervisor/dispatch/work-orders/{work_order_id}/photos'
const fuse = { id: 'p/1', filename: 'fuse.jpg', content_type: 'image/jpeg', size: 2048, uploaded_at: '2026-12-07T01:58:00Z' }
const box = { id: 'p2', filename: 'box.png', content_type: 'image/png', size: 4096, uploaded_at: '2026-12-07T01:59:00Z' }
let photos: (typeof fuse)[] = []
let photosRefused = false
const returned = {
  id: 'o1',
  ticket_id: 't1',
  ticket_no: 'GD202612070001',
  unit_id: 'unit-east',
  crew_id: 'crew-1',
  status: 'returned',
  resolution: 'paid_service_referral',
  cause: '户内开关跳闸',
  notes: '客户家中空调短路',
  returned_at: '2026-12-07T02:00:00Z',
  waiting_seconds: 125,
}
const board = () => ({
  crews: [{ crew_id: 'crew-1', unit_id: 'unit-east', name: '抢修一队', on_duty: true, latitude: null, longitude: null, open_orders: 0 }],
  orders: [],
  incidents: [],
  needs_routing: [],
  units: [{ unit_id: 'unit-east', name: '东区抢修班' }],
  awaiting_review: [returned],
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
    if (path === PHOTOS) {
      if (photosRefused) return { error: { detail: 'dispatch does not answer' }, response: new Response(null, { status: 502 }) }
      return { data: photos, response: new Response(null, { status: 200 }) }
    }
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
const { reviewWaited, sendBackReady, useDispatchStore } = await import('@/stores/dispatch')
const ReturnReview = (await import('@/components/board/ReturnReview.vue')).default

async function mountPanel(now: number) {
  const pinia = createPinia()
  setActivePinia(pinia)
  const dispatch = useDispatchStore()
  await dispatch.load()
  dispatch.loadedAt = now
  calls.length = 0
  const wrapper = mount(ReturnReview, { props: { now }, global: { plugins: [pinia, i18n, ElementPlus] } })
  await flushPromises()
  return { dispatch, wrapper }
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  refuse = null
  photos = []
  photosRefused = false
  calls.length = 0
})

describe('the return review (回单审核)', () => {
  it("counts a return's wait up from what the console said, on the browser's own elapsed time", () => {
    expect(reviewWaited(returned, 1_000_000, 1_000_000)).toBe(125)
    expect(reviewWaited(returned, 1_000_000, 1_060_000)).toBe(185)
    expect(reviewWaited({ ...returned, waiting_seconds: null }, 1_000_000, 1_060_000)).toBeNull()
  })

  it('takes a send-back reason only when it says something, and not beyond 500 characters', () => {
    expect(sendBackReady('')).toBe(false)
    expect(sendBackReady('   \n ')).toBe(false)
    expect(sendBackReady(' 未写明故障原因 ')).toBe(true)
    expect(sendBackReady('因'.repeat(500))).toBe(true)
    expect(sendBackReady('因'.repeat(501))).toBe(false)
  })

  it('lists each return with its crew, translated result, cause, notes and wait, and counts them on the title', async () => {
    const { wrapper } = await mountPanel(Date.now())
    const text = wrapper.text()
    for (const shown of ['回单审核', 'GD202612070001', '东区抢修班 · 抢修一队', '转有偿服务', '户内开关跳闸', '客户家中空调短路', '02:05']) {
      expect(text).toContain(shown)
    }
    expect(text).not.toMatch(/paid_service_referral|crew-1|unit-east/)
    expect(wrapper.find('[data-test=review-count]').text()).toContain('1')
    expect(wrapper.findAll('[data-test=review-row]')).toHaveLength(1)
  })

  it('sends back only with a reason, and shows why dispatch refused while the dialog stays open', async () => {
    const { wrapper } = await mountPanel(Date.now())
    await wrapper.find('[data-test=review-send-back]').trigger('click')
    await flushPromises()
    const confirm = () => wrapper.find('[data-test=review-confirm]')
    expect(confirm().attributes('disabled')).toBeDefined()
    const reason = wrapper.find('textarea[data-test=review-reason]')
    await reason.setValue('   ')
    expect(confirm().attributes('disabled')).toBeDefined()
    await reason.setValue(' 未写明故障原因，请补充 ')
    expect(confirm().attributes('disabled')).toBeUndefined()

    refuse = { status: 409, detail: 'the return was reviewed already' }
    await confirm().trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-test=review-error]').text()).toContain('the return was reviewed already')
    expect(wrapper.find('[data-test=review-reason]').exists()).toBe(true)
    // The reason went trimmed; on the 409 the board is read again (someone else reviewed it).
    expect(calls.map((c) => [c.method, c.path, c.body])).toEqual([
      ['GET', PHOTOS, { work_order_id: 'o1' }],
      ['POST', '/api/supervisor/dispatch/work-orders/{work_order_id}/return-send-back', { reason: '未写明故障原因，请补充' }],
      ['GET', '/api/supervisor/dispatch/board', undefined],
    ])
  })

  it('approves with an optional note, then reloads the board', async () => {
    const { wrapper } = await mountPanel(Date.now())
    await wrapper.find('[data-test=review-approve]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-test=review-confirm]').attributes('disabled')).toBeUndefined()
    await wrapper.find('[data-test=review-confirm]').trigger('click')
    await flushPromises()
    expect(calls.map((c) => [c.method, c.path, c.body])).toEqual([
      ['GET', PHOTOS, { work_order_id: 'o1' }],
      ['POST', '/api/supervisor/dispatch/work-orders/{work_order_id}/return-approval', { note: null }],
      ['GET', '/api/supervisor/dispatch/board', undefined],
    ])
    expect(wrapper.find('[data-test=review-error]').exists()).toBe(false)
  })

  it("shows the return's site photos in the dialog, each a thumbnail that opens the set enlarged", async () => {
    photos = [fuse, box]
    const { wrapper } = await mountPanel(Date.now())
    await wrapper.find('[data-test=review-approve]').trigger('click')
    await flushPromises()
    const list = wrapper.find('[data-test=review-photos]')
    expect(list.attributes('data-count')).toBe('2')
    expect(wrapper.text()).toContain('现场照片')
    expect(wrapper.find('[data-test=review-no-photos]').exists()).toBe(false)
    const shown = wrapper.findAll('[data-test=review-photo]')
    expect(shown.map((p) => p.attributes('data-photo'))).toEqual(['p/1', 'p2'])
    // The bytes come from the BFF, same origin (the session cookie signs the <img>'s request).
    expect(shown.map((p) => p.find('img').attributes('src'))).toEqual([
      '/api/supervisor/dispatch/work-orders/o1/photos/p%2F1',
      '/api/supervisor/dispatch/work-orders/o1/photos/p2',
    ])
    expect(shown[1].find('img').attributes('alt')).toBe('box.png')
    expect(calls.filter((c) => c.path === PHOTOS)).toEqual([{ method: 'GET', path: PHOTOS, body: { work_order_id: 'o1' } }])
  })

  it('says so when the crew uploaded no photos, and when they cannot be read', async () => {
    const { wrapper } = await mountPanel(Date.now())
    await wrapper.find('[data-test=review-send-back]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-test=review-photos]').attributes('data-count')).toBe('0')
    expect(wrapper.find('[data-test=review-no-photos]').text()).toBe('未上传照片')
    expect(wrapper.findAll('[data-test=review-photo]')).toHaveLength(0)

    i18n.global.locale.value = 'en'
    photosRefused = true
    await wrapper.find('[data-test=review-approve]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-test=review-photos-error]').text()).toContain('dispatch does not answer')
    expect(wrapper.find('[data-test=review-no-photos]').exists()).toBe(false)
    // The dialog still works without them: the review is the dispatcher's to make.
    expect(wrapper.find('[data-test=review-confirm]').attributes('disabled')).toBeUndefined()
  })
})
