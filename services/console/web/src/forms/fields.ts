// The ticket form of each type, built from the script's required and optional fields (intake's
// GET /scripts): which control each field gets, the closed lists with their translated labels,
// what is still missing, and the body intake's POST /tickets takes.

export type Control = 'text' | 'textarea' | 'select' | 'datetime' | 'switch' | 'area'

export interface FieldSpec {
  name: string
  control: Control
  required: boolean
  /** i18n prefix of the options' labels, e.g. 'scope' → scope.own_home */
  labels?: string
  options?: readonly string[]
}

export interface ScriptInfo {
  ticket_type: string
  script: string
  required_fields: string[]
  optional_fields: string[]
}

export const TICKET_TYPES = [
  'repair',
  'consultation',
  'service_request',
  'complaint',
  'report',
  'opinion',
  'suggestion',
  'praise',
] as const
export type TicketType = (typeof TICKET_TYPES)[number]
// A ticket's status at intake (brightline.intake.domain.model.TicketStatus): a repair is resolved
// with its work order; a complaint, report, opinion, suggestion or praise follows its case.
export const TICKET_STATUSES = ['recorded', 'completed', 'reopened', 'resolved', 'answered', 'closed'] as const
// Still the first-ask owner's to follow: what a shift handover moves (intake's open tickets).
export const OPEN_TICKET_STATUSES: readonly string[] = ['recorded', 'reopened']

export const FAULT_SCOPES = ['own_home', 'building', 'area'] as const
export const COMPLAINT_SUBTYPES = ['service', 'business', 'outage', 'supply_quality', 'grid_construction'] as const
export const COMPLAINT_GRADES = ['special', 'major', 'important', 'general'] as const

const CONTROLS: Record<string, Omit<FieldSpec, 'name' | 'required'>> = {
  fault_scope: { control: 'select', labels: 'scope', options: FAULT_SCOPES },
  complaint_subtype: { control: 'select', labels: 'subtype', options: COMPLAINT_SUBTYPES },
  complaint_grade: { control: 'select', labels: 'grade', options: COMPLAINT_GRADES },
  fault_started_at: { control: 'datetime' },
  area_code: { control: 'area' },
  anonymous: { control: 'switch' },
  description: { control: 'textarea' },
}

/** The fields of a type's form: required first (in the script's order), then optional,
 * the description always last (it is the widest). */
export function formFor(script: ScriptInfo | undefined): FieldSpec[] {
  if (!script) return []
  const seen = new Set<string>()
  const specs: FieldSpec[] = []
  for (const [names, required] of [
    [script.required_fields, true],
    [script.optional_fields, false],
  ] as const) {
    for (const name of names) {
      if (seen.has(name)) continue
      seen.add(name)
      specs.push({ name, required, ...(CONTROLS[name] ?? { control: 'text' }) })
    }
  }
  // An address gets its service area beside it (chosen by name), unless the script asks for it.
  const address = specs.findIndex((s) => s.name === 'address')
  if (address >= 0 && !seen.has('area_code')) specs.splice(address + 1, 0, { name: 'area_code', required: false, control: 'area' })
  const description = specs.findIndex((s) => s.name === 'description')
  if (description >= 0) specs.push(...specs.splice(description, 1))
  return specs
}

export function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '')
}

export function missingRequired(specs: FieldSpec[], form: Record<string, unknown>): string[] {
  return specs.filter((s) => s.required && isEmpty(form[s.name])).map((s) => s.name)
}

/** The body of POST /api/tickets: only the fields of this type that hold a value. */
export function ticketBody(
  type: string,
  specs: FieldSpec[],
  form: Record<string, unknown>,
  extra: { call_id?: string; script?: string; note_to_customer?: string; customer_id?: unknown; area_code?: unknown; meter_no?: unknown },
): Record<string, unknown> {
  const body: Record<string, unknown> = { ticket_type: type }
  for (const spec of specs) {
    const value = form[spec.name]
    if (!isEmpty(value)) body[spec.name] = typeof value === 'string' ? value.trim() : value
  }
  for (const [key, value] of Object.entries(extra)) if (!isEmpty(value)) body[key] = value
  return body
}

/** Ticket types whose closing promises by when the caller hears back (seed 004 §13); the date
 * itself is the reply deadline the SLA monitor opens under the policy pack in force. */
export const PROMISED_TYPES: readonly string[] = ['complaint', 'report']

/** Which thanks the closing line uses (intake's closing kinds). */
export function closingFor(type: string | undefined): string {
  return type && ['suggestion', 'opinion', 'complaint', 'report', 'praise'].includes(type) ? type : 'general'
}
