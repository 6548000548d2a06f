// Labels of what records sends (types, statuses, timeline kinds, sources) through the messages,
// so no code reaches the screen as such: anything this build does not know gets a generic label.
import { TICKET_STATUSES, TICKET_TYPES } from '@/forms/fields'
import { RECORD_STATUSES } from '@/stores/records'

type T = (key: string, values?: Record<string, unknown>) => string
type Has = (key: string) => boolean

export const TIMELINE_KINDS = [
  'call.ringing',
  'call.answered',
  'call.ended',
  'ticket.recorded',
  'ticket.linked',
  'ticket.owner_changed',
  'ticket.completed',
  'ticket.reopened',
  'escalation.requested',
  'escalation.resolved',
  'work_order.created',
  'work_order.assigned',
  'work_order.accepted',
  'work_order.en_route',
  'work_order.cancel_requested',
  'work_order.cancel_refused',
  'work_order.on_site',
  'work_order.resolved',
  'work_order.returned',
  'work_order.sent_back',
  'work_order.resolution',
  'work_order.cancelled',
  'incident.declared',
  'incident.updated',
  'incident.restored',
  'case.opened',
  'case.reminded',
  'case.escalated',
  'case.transferred',
  'case.accepted',
  'case.investigating',
  'case.sent_back',
  'case.returned',
  'case.replied',
  'case.answered',
  'case.reopened',
  'case.closed',
  'callback.due',
  'callback.outcome',
  'callback.reopen_requested',
  'deadline.opened',
  'deadline.warned',
  'deadline.breached',
  'deadline.met',
  'deadline.cancelled',
] as const

const SOURCES = ['intake', 'dispatch', 'casework', 'callback', 'sla']

export function kindKey(kind: string): string {
  if ((TIMELINE_KINDS as readonly string[]).includes(kind)) return `timeline.kinds.${kind.replace('.', '_')}`
  if (kind.startsWith('case.')) return 'timeline.kinds.case_other'
  if (kind.startsWith('work_order.')) return 'timeline.kinds.work_order_other'
  return 'timeline.kinds.other'
}

export function kindLabel(t: T, kind: string): string {
  return t(kindKey(kind))
}

/** A ticket's status as intake holds it (the desk's cards); never a label that says more. */
export function ticketStatusLabel(t: T, status: string): string {
  return t(`status.${(TICKET_STATUSES as readonly string[]).includes(status) ? status : 'unknown'}`)
}

export function typeLabel(t: T, type: string | null | undefined): string {
  return t(`types.${type && (TICKET_TYPES as readonly string[]).includes(type) ? type : 'unknown'}`)
}

// The ticket types casework handles: a department accepts (受理) them, where a crew takes
// (接单) a repair's order; records keeps one status `accepted` for both.
const CASE_TYPES = ['complaint', 'report', 'opinion', 'suggestion', 'praise']

/** A ticket's status as records holds it, said as the ticket's type has it. */
export function statusLabel(t: T, status: string | null | undefined, ticketType?: string | null): string {
  if (status === 'accepted' && ticketType && CASE_TYPES.includes(ticketType)) return t('records.statuses.case_accepted')
  return t(`records.statuses.${status && (RECORD_STATUSES as readonly string[]).includes(status) ? status : 'other'}`)
}

/** "/brightline/sla_monitor" → the service's name in the messages. */
export function sourceLabel(t: T, source: string): string {
  const name = source.split('/').pop()?.replace('sla_monitor', 'sla') ?? ''
  return t(`services.${SOURCES.includes(name) ? name : 'unknown'}`)
}

/** A time limit's name (`repair.arrival.urban` → 城区到达现场); one this build does not know gets
 * a generic name, never the key. */
export function limitLabel(t: T, has: Has, key: string): string {
  const path = `clocks.limits.${key.replace(/\./g, '_')}`
  return has(path) ? t(path) : t('clocks.limits.other')
}

const RESOLUTIONS = ['repaired', 'paid_service_referral', 'restored_with_outage']
const OUTCOMES = ['satisfied', 'basically_satisfied', 'unsatisfied', 'unreachable', 'declined']

export interface EntryFacts {
  kind: string
  data: Record<string, unknown>
}

/** What an auditor reads under a timeline entry's kind: the limit and when it falls due (and
 * whether it was kept, or why it was cancelled), how long the answer took, the crew's arrival
 * limit, the caller's words, the repair's result and cause or why it was called off, the
 * callback's outcome. '' when the entry says nothing more. */
export function entryDetail(t: T, has: Has, entry: EntryFacts, when: (iso: string) => string): string {
  const d = entry.data
  const text = (key: string) => (typeof d[key] === 'string' && d[key] ? (d[key] as string) : null)
  const limit = text('limit_key') ? limitLabel(t, has, text('limit_key') as string) : ''
  switch (entry.kind) {
    case 'call.answered':
      return typeof d.answer_delay_seconds === 'number'
        ? t('timeline.detail.answeredIn', { s: d.answer_delay_seconds.toFixed(1) })
        : ''
    case 'ticket.recorded':
      return text('description') ?? ''
    // What the department found and replied, what the customer was told, the transfer's note:
    // the case's own words, as casework recorded the step.
    case 'case.transferred':
    case 'case.investigating':
    case 'case.sent_back':
    case 'case.returned':
    case 'case.replied':
    case 'case.answered':
    case 'case.reopened':
    case 'case.closed':
      return text('note') ?? ''
    case 'deadline.opened':
    case 'deadline.warned':
    case 'deadline.breached':
      return text('due_at') ? t('timeline.detail.due', { limit, at: when(text('due_at') as string) }) : limit
    case 'deadline.met':
      if (d.on_time === true) return t('timeline.detail.metOnTime', { limit })
      return d.on_time === false ? t('timeline.detail.metLate', { limit }) : limit
    case 'deadline.cancelled':
      return text('reason') ? t('timeline.detail.cancelledWhy', { what: limit, reason: text('reason') as string }) : limit
    case 'work_order.cancelled':
      return text('reason') ? t('timeline.detail.calledOff', { reason: text('reason') as string }) : ''
    case 'work_order.sent_back':
      return text('reason') ? t('timeline.detail.sentBackWhy', { reason: text('reason') as string }) : ''
    case 'work_order.cancel_requested':
      return text('reason') ? t('timeline.detail.askedWhy', { reason: text('reason') as string }) : ''
    case 'work_order.cancel_refused':
      return text('reason') ? t('timeline.detail.refusedWhy', { reason: text('reason') as string }) : ''
    case 'work_order.created':
    case 'work_order.assigned':
      return text('arrive_by') ? t('timeline.detail.arriveBy', { at: when(text('arrive_by') as string) }) : ''
    case 'work_order.resolution': {
      const code = text('resolution')
      const result = t(`timeline.resolutions.${code && RESOLUTIONS.includes(code) ? code : 'other'}`)
      const cause = text('cause')
      return cause ? t('timeline.detail.resolutionCause', { result, cause }) : result
    }
    case 'callback.due':
      return text('due_at') ? t('timeline.detail.callbackDue', { at: when(text('due_at') as string) }) : ''
    case 'callback.outcome': {
      const outcome = text('outcome')
      return outcome && OUTCOMES.includes(outcome) ? t(`callback.outcomes.${outcome}`) : ''
    }
    default:
      return ''
  }
}
