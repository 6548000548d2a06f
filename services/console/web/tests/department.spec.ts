import { describe, expect, it, vi } from 'vitest'

vi.mock('@/api/client', () => ({ api: {}, unwrap: async () => ({}) }))
const { STEPS_BY_STATUS, daysAndHours, replyLeft } = await import('@/stores/department')

describe("the department's desk", () => {
  it('offers each status only the steps casework takes from it', () => {
    expect(STEPS_BY_STATUS.transferred).toEqual(['accept'])
    expect(STEPS_BY_STATUS.accepted).toEqual(['investigate', 'reply'])
    expect(STEPS_BY_STATUS.investigating).toEqual(['reply'])
    // Replied, answered or closed: the first-ask owner's and the supervisor's, not the department's.
    expect(STEPS_BY_STATUS.replied).toBeUndefined()
  })

  it('reads a limit days away as days and hours', () => {
    expect(daysAndHours(4 * 86400 + 23 * 3600 + 59 * 60)).toEqual({ d: 4, h: 23 })
    expect(daysAndHours(86400)).toEqual({ d: 1, h: 0 })
    expect(daysAndHours(-5)).toEqual({ d: 0, h: 0 })
  })

  it("counts the reply limit down from what the console said, on the browser's own elapsed time", () => {
    const held = {
      id: 'c1', ticket_id: 't1', ticket_no: 'GD1', case_type: 'complaint', status: 'accepted',
      complaint_subtype: 'business', complaint_grade: 'general', anonymous: false, confidential: false,
      opened_at: '2026-12-07T01:00:00Z', reply_due: '2026-12-12T01:00:00Z', reply_seconds_left: 100, sent_back: false,
    }
    expect(replyLeft(held, 1_000, 11_000)).toBe(90)
    expect(replyLeft({ ...held, reply_seconds_left: null }, 1_000, 11_000)).toBeNull()
  })
})

describe('who pressed for a reply', () => {
  it("tells the SLA monitor's warning, the supervisor's chase and the customer's call apart", async () => {
    const { urgedBy } = await import('@/stores/department')
    const step = (action: string, actor: string, at: string) => ({ action, actor, at, from_status: null, to_status: null, note: null })
    expect(
      urgedBy([
        step('open', 'agent-1001', '1'),
        step('remind', 'sla_monitor', '2'),
        step('remind', 'super-9001', '3'),
        step('chase', 'intake', '4'),
        step('accept', 'cw-1', '5'),
      ]),
    ).toEqual([
      { by: 'limit', at: '2' },
      { by: 'supervisor', at: '3' },
      { by: 'customer', at: '4' },
    ])
  })
})

describe('a reply sent back (退回重办)', () => {
  it('stands until the department replies again', async () => {
    const { lastSentBack } = await import('@/stores/department')
    const step = (action: string, note: string | null = null) => ({ action, actor: 'x', at: '1', from_status: null, to_status: null, note })
    expect(lastSentBack([step('accept'), step('reply', '已处理')])).toBeNull()
    expect(lastSentBack([step('reply', '已处理'), step('send_back', '未说明是否退费'), step('remind')])?.note).toBe('未说明是否退费')
    expect(lastSentBack([step('reply'), step('send_back', 'x'), step('reply', '已退费')])).toBeNull()
  })
})

describe('a case that is not ours', () => {
  it('goes on only to another department that handles its type', async () => {
    const { forwardTo } = await import('@/stores/department')
    const queue = {
      department_id: 'dept-service', department_name: '客户服务中心', cases: [], problems: [],
      departments: [
        { id: 'dept-marketing', name: '营销部', case_types: ['complaint', 'suggestion'] },
        { id: 'dept-audit', name: '纪检监察室', case_types: ['report'] },
      ],
    }
    expect(forwardTo('complaint', queue).map((d) => d.id)).toEqual(['dept-marketing'])
    expect(forwardTo('praise', queue)).toEqual([])
  })
})
