import { describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import ElementPlus from 'element-plus'

vi.mock('@/api/client', () => ({
  api: {
    GET: async () => ({ data: null, response: new Response(null, { status: 204 }) }),
    POST: async () => ({ data: { polite: true, violations: [] }, response: new Response(null, { status: 200 }) }),
    PUT: async () => ({ data: null, response: new Response(null, { status: 200 }) }),
  },
  unwrap: async (pending: Promise<{ data: unknown }>) => (await pending).data,
  idempotencyKey: () => 'key-1',
}))

const { i18n } = await import('@/i18n')
const { useDeskStore, newDraft } = await import('@/stores/desk')
const TicketForm = (await import('@/components/desk/TicketForm.vue')).default

function mountWithComplaint() {
  const pinia = createPinia()
  setActivePinia(pinia)
  const desk = useDeskStore()
  desk.scripts = [
    {
      ticket_type: 'complaint',
      script: 'complaint@1',
      required_fields: ['caller_name', 'phone', 'complaint_subtype', 'description'],
      optional_fields: ['complaint_grade', 'reported_party', 'address', 'customer_number'],
    },
  ]
  desk.call = newDraft({ call_id: 'c-1', queue: '95598', rang_at: '2026-12-01T02:00:00Z', caller_number: '13905710001' }, null)
  desk.call.ticketType = 'complaint'
  return { desk, wrapper: mount(TicketForm, { global: { plugins: [pinia, i18n, ElementPlus] } }) }
}

describe('the ticket form', () => {
  it('shows the complaint form with Chinese labels, required marks and no raw codes', () => {
    i18n.global.locale.value = 'zh-CN'
    const { wrapper } = mountWithComplaint()
    const text = wrapper.text()
    for (const label of ['客户姓名', '联系电话', '投诉分类', '投诉等级', '被举报对象', '诉求内容', '对客户说的话']) {
      expect(text).toContain(label)
    }
    expect(text).not.toMatch(/complaint_subtype|caller_name|complaint@1/)
    expect(wrapper.find('[data-test=field-complaint_subtype]').classes()).toContain('is-required')
    expect(wrapper.find('[data-test=field-complaint_grade]').classes()).not.toContain('is-required')
    expect(wrapper.find('[data-test=missing]').text()).toContain('客户姓名')
    expect(wrapper.find('[data-test=record]').attributes('disabled')).toBeDefined()
  })

  it('enables recording once the required fields hold values', async () => {
    const { desk, wrapper } = mountWithComplaint()
    Object.assign(desk.call!.form, { caller_name: '李四', complaint_subtype: 'service', description: '态度不好' })
    await wrapper.vm.$nextTick()
    expect(desk.missing).toEqual([])
    expect(wrapper.find('[data-test=missing]').exists()).toBe(false)
    expect(wrapper.find('[data-test=record]').attributes('disabled')).toBeUndefined()
  })

  it('speaks English when the desk does', async () => {
    i18n.global.locale.value = 'en'
    const { wrapper } = mountWithComplaint()
    expect(wrapper.text()).toContain('Complaint category')
    expect(wrapper.text()).toContain('What you tell the caller')
    i18n.global.locale.value = 'zh-CN'
  })
})
