import { describe, expect, it } from 'vitest'
import zh from '@/i18n/zh-CN'
import en from '@/i18n/en'
import { TIMELINE_KINDS, kindKey, sourceLabel, statusLabel, ticketStatusLabel } from '@/components/records/labels'
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
    expect(kindKey('case.transferred')).toBe('timeline.kinds.case_other')
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
})
