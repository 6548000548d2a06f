import { describe, expect, it, vi } from 'vitest'

vi.mock('@/api/client', () => ({ api: {}, unwrap: async () => ({}) }))
const { departmentName, departmentsFor, transferLeft } = await import('@/stores/cases')
const { answerLeft } = await import('@/stores/answers')

const DEPARTMENTS = [
  { id: 'dept-service', name: '客户服务中心', case_types: ['complaint', 'opinion', 'suggestion', 'praise'] },
  { id: 'dept-audit', name: '纪检监察室', case_types: ['report'] },
]

describe('cases waiting for a department', () => {
  it('offers only the departments that handle the case type (casework refuses the others)', () => {
    expect(departmentsFor('report', DEPARTMENTS).map((d) => d.id)).toEqual(['dept-audit'])
    expect(departmentsFor('complaint', DEPARTMENTS).map((d) => d.id)).toEqual(['dept-service'])
    expect(departmentsFor('consultation', DEPARTMENTS)).toEqual([])
  })

  it('names the department that returned a case, by its id once it is no longer listed', () => {
    expect(departmentName('dept-audit', DEPARTMENTS)).toBe('纪检监察室')
    expect(departmentName('dept-closed', DEPARTMENTS)).toBe('dept-closed')
    expect(departmentName(null, DEPARTMENTS)).toBe('')
  })

  it("counts the transfer limit down from what the console said, on the browser's own elapsed time", () => {
    const waiting = {
      id: 'c1', ticket_id: 't1', ticket_no: 'GD1', case_type: 'complaint', status: 'opened', opened_at: '2026-12-07T01:00:00Z',
      complaint_grade: null, anonymous: false, transfer_due: '2026-12-07T03:00:00Z', transfer_seconds_left: 10,
    }
    expect(transferLeft(waiting, 5_000, 5_000)).toBe(10)
    expect(transferLeft(waiting, 5_000, 17_000)).toBe(-2)
    expect(transferLeft({ ...waiting, transfer_seconds_left: null }, 5_000, 17_000)).toBeNull()
  })

  it("counts the first-ask owner's answer limit down the same way", () => {
    const replied = {
      id: 'c1', ticket_id: 't1', ticket_no: 'GD1', case_type: 'complaint', department_id: 'dept-service', department_name: '客户服务中心',
      reply_text: '已整改', answer_due: '2026-12-09T03:00:00Z', answer_seconds_left: 60,
    }
    expect(answerLeft(replied, 0, 30_000)).toBe(30)
    expect(answerLeft({ ...replied, answer_seconds_left: null }, 0, 30_000)).toBeNull()
  })
})
