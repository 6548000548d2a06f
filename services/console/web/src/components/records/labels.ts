// Labels of what records sends (types, statuses, timeline kinds, sources) through the messages,
// so no code reaches the screen as such: anything this build does not know gets a generic label.
import { TICKET_STATUSES, TICKET_TYPES } from '@/forms/fields'
import { RECORD_STATUSES } from '@/stores/records'

type T = (key: string) => string

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
  'work_order.on_site',
  'work_order.resolved',
  'work_order.returned',
  'work_order.resolution',
  'work_order.cancelled',
  'incident.declared',
  'incident.updated',
  'incident.restored',
  'case.opened',
  'case.reminded',
  'case.escalated',
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

export function statusLabel(t: T, status: string | null | undefined): string {
  return t(`records.statuses.${status && (RECORD_STATUSES as readonly string[]).includes(status) ? status : 'other'}`)
}

/** "/brightline/sla_monitor" → the service's name in the messages. */
export function sourceLabel(t: T, source: string): string {
  const name = source.split('/').pop()?.replace('sla_monitor', 'sla') ?? ''
  return t(`services.${SOURCES.includes(name) ? name : 'unknown'}`)
}
