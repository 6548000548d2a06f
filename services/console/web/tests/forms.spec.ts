import { describe, expect, it } from 'vitest'
import { closingFor, formFor, missingRequired, ticketBody, type ScriptInfo } from '@/forms/fields'

const repair: ScriptInfo = {
  ticket_type: 'repair',
  script: 'repair@1',
  required_fields: ['caller_name', 'phone', 'address', 'fault_scope', 'description'],
  optional_fields: ['fault_started_at', 'customer_number'],
}
const complaint: ScriptInfo = {
  ticket_type: 'complaint',
  script: 'complaint@1',
  required_fields: ['caller_name', 'phone', 'complaint_subtype', 'description'],
  optional_fields: ['complaint_grade', 'reported_party', 'address', 'customer_number'],
}

describe('ticket forms from the script', () => {
  it('give each field its control, required first, the description last', () => {
    const specs = formFor(repair)
    expect(specs.map((s) => s.name)).toEqual([
      'caller_name',
      'phone',
      'address',
      'area_code',
      'fault_scope',
      'fault_started_at',
      'customer_number',
      'description',
    ])
    expect(specs.find((s) => s.name === 'fault_scope')).toMatchObject({ control: 'select', labels: 'scope', required: true })
    expect(specs.find((s) => s.name === 'fault_started_at')).toMatchObject({ control: 'datetime', required: false })
    expect(specs.find((s) => s.name === 'description')?.control).toBe('textarea')
  })

  it('put the service area beside the address, chosen from the areas', () => {
    expect(formFor(complaint).find((s) => s.name === 'area_code')).toMatchObject({ control: 'area', required: false })
    const noAddress = formFor({ ...complaint, optional_fields: ['complaint_grade'] })
    expect(noAddress.some((s) => s.name === 'area_code')).toBe(false)
    const body = ticketBody('repair', formFor(repair), { address: '文三路100号', area_code: 'HZ-XH-01' }, {})
    expect(body).toEqual({ ticket_type: 'repair', address: '文三路100号', area_code: 'HZ-XH-01' })
  })

  it('offer the complaint sub-types and grades as selects', () => {
    const specs = formFor(complaint)
    expect(specs.find((s) => s.name === 'complaint_subtype')?.options).toContain('supply_quality')
    expect(specs.find((s) => s.name === 'complaint_grade')).toMatchObject({ control: 'select', labels: 'grade' })
  })

  it('name what is still missing, and only the required', () => {
    const specs = formFor(repair)
    expect(missingRequired(specs, { caller_name: '李四', phone: ' ', fault_scope: 'building' })).toEqual([
      'phone',
      'address',
      'description',
    ])
  })

  it('send only the fields of the type that hold a value', () => {
    const body = ticketBody('repair', formFor(repair), { caller_name: ' 李四 ', phone: '139', reported_party: 'x' }, {
      call_id: 'c1',
      note_to_customer: '',
    })
    expect(body).toEqual({ ticket_type: 'repair', caller_name: '李四', phone: '139', call_id: 'c1' })
  })

  it('thank by the ticket type in the closing', () => {
    expect(closingFor('complaint')).toBe('complaint')
    expect(closingFor('repair')).toBe('general')
  })
})
