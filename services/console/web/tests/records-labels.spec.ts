import { describe, expect, it } from 'vitest'
import zh from '@/i18n/zh-CN'
import en from '@/i18n/en'
import { TIMELINE_KINDS, entryDetail, kindKey, sourceLabel, statusLabel, ticketStatusLabel } from '@/components/records/labels'
import { TICKET_STATUSES } from '@/forms/fields'
import { RECORD_STATUSES, SEARCH_FIELDS } from '@/stores/records'

type Tree = { [key: string]: string | Tree }
function lookup(tree: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((node, part) => (node && typeof node === 'object' ? (node as Tree)[part] : undefined), tree)
}

describe('what records sends, as the screen says it', () => {
  it('has a message in both languages for every timeline kind, status and search field', () => {
    const keys = [
      ...TIMELINE_KINDS.map(kindKey),
      'timeline.kinds.case_other',
      'timeline.kinds.work_order_other',
      'timeline.kinds.other',
      ...RECORD_STATUSES.map((s) => `records.statuses.${s}`),
      'records.statuses.other',
      ...SEARCH_FIELDS.map((f) => `records.fields.${f}`),
      ...TICKET_STATUSES.map((s) => `status.${s}`),
      'status.unknown',
    ]
    for (const key of keys) {
      expect(lookup(zh, key), key).toBeTypeOf('string')
      expect(lookup(en, key), key).toBeTypeOf('string')
    }
  })

  it('gives codes it does not know a generic label, never the code', () => {
    const t = (key: string) => key
    expect(kindKey('case.handed_around')).toBe('timeline.kinds.case_other')
    expect(kindKey('work_order.paused')).toBe('timeline.kinds.work_order_other')
    expect(kindKey('brand.new')).toBe('timeline.kinds.other')
    expect(statusLabel(t, 'weird_status')).toBe('records.statuses.other')
    expect(sourceLabel(t, '/brightline/sla_monitor')).toBe('services.sla')
    expect(sourceLabel(t, '/brightline/somewhere')).toBe('services.unknown')
  })

  it("says a ticket's status at intake as it is: a repaired ticket is not 'in progress'", () => {
    const say = (key: string) => String(lookup(zh, key))
    expect(ticketStatusLabel(say, 'resolved')).toBe('抢修完毕')
    expect(ticketStatusLabel(say, 'answered')).toBe('已答复')
    expect(ticketStatusLabel(say, 'closed')).toBe('已归档')
    expect(ticketStatusLabel(say, 'brand_new')).toBe('其他状态')
  })

  it('tells under each entry the facts an auditor looks for, and nothing for the rest', () => {
    const say = (key: string, values?: Record<string, unknown>) =>
      String(lookup(zh, key)).replace(/\{(\w+)\}/g, (_, name: string) => String(values?.[name] ?? ''))
    const has = (key: string) => typeof lookup(zh, key) === 'string'
    const when = (iso: string) => `<${iso.slice(11, 16)}>`
    const detail = (kind: string, data: Record<string, unknown>) => entryDetail(say, has, { kind, data }, when)
    expect(detail('deadline.opened', { limit_key: 'repair.arrival.urban', due_at: '2026-12-07T05:29:15Z' })).toBe('城区到达现场 · 截止 <05:29>')
    expect(detail('deadline.met', { limit_key: 'repair.arrival.urban', on_time: true })).toBe('城区到达现场 · 按时')
    // A late arrival is not said to be within its limit.
    expect(detail('deadline.met', { limit_key: 'appointment.arrival', on_time: false })).toBe('预约到达 · 超时完成')
    expect(detail('deadline.breached', { limit_key: 'brand.new.limit', due_at: '2026-12-07T05:00:00Z' })).toBe('其他时限 · 截止 <05:00>')
    expect(detail('call.answered', { answer_delay_seconds: 10.209 })).toBe('10.2 秒接听')
    expect(detail('work_order.assigned', { arrive_by: '2026-12-07T05:29:15Z' })).toBe('须于 <05:29> 前到达现场')
    expect(detail('work_order.resolution', { resolution: 'repaired', cause: '表箱开关故障' })).toBe('已修复 · 原因：表箱开关故障')
    expect(detail('work_order.resolution', { resolution: 'mystery' })).toBe('其他处理结果')
    expect(detail('callback.outcome', { outcome: 'basically_satisfied' })).toBe('基本满意')
    expect(detail('ticket.recorded', { description: '家里突然停电了' })).toBe('家里突然停电了')
    expect(detail('call.ringing', { queue: '95598' })).toBe('')
    expect(detail('work_order.accepted', { crew_id: 'crew-1' })).toBe('')
    // Why a repair was called off, and why its arrival clock stopped.
    expect(detail('work_order.cancelled', { reason: '客户告知已自行恢复供电' })).toBe('撤销原因：客户告知已自行恢复供电')
    // Why the duty dispatcher sent a crew's return back (回单审核).
    expect(detail('work_order.sent_back', { reason: '原因未写明' })).toBe('退回原因：原因未写明')
    expect(detail('deadline.cancelled', { limit_key: 'repair.arrival.urban', reason: '重复报修' })).toBe('城区到达现场 · 撤销：重复报修')
    // A case's steps in its own words: what the department replied, what the customer was told.
    expect(detail('case.replied', { note: '已对抄表员进行批评教育', status: 'replied' })).toBe('已对抄表员进行批评教育')
    expect(detail('case.answered', { note: '已致电客户告知结果' })).toBe('已致电客户告知结果')
    expect(detail('case.accepted', { note: null })).toBe('')
  })

  it('names every status records gives a ticket: a closed complaint, a crew on its way, a customer not reached', () => {
    const say = (key: string) => String(lookup(zh, key))
    expect(statusLabel(say, 'closed')).toBe('已归档')
    expect(statusLabel(say, 'en_route')).toBe('抢修途中')
    expect(statusLabel(say, 'callback_unreached')).toBe('回访未接通')
    expect(statusLabel(say, 'called_back')).toBe('已回访')
    // A crew takes a repair's order (接单); a department accepts a complaint (受理).
    expect(statusLabel(say, 'accepted', 'repair')).toBe('已接单')
    expect(statusLabel(say, 'accepted', 'complaint')).toBe('部门已受理')
  })
})
