// The department's desk (承办部门): the cases transferred to my department, the reply soonest due
// first, the one opened, and the department's steps on it (accept, investigation, reply). Casework
// decides each step: out of turn is a 409, a forbidden phrase in a reply a 422 naming it.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, unwrap, type Schemas } from '@/api/client'
import { countedDown } from '@/util/format'

export type DepartmentCase = Schemas['DepartmentCase']
export type DepartmentQueue = Schemas['DepartmentQueue']

export interface CaseStep {
  action: string
  actor: string
  at: string
  from_status: string | null
  to_status: string | null
  note: string | null
}
/** One case as casework shows it to the department (GET /api/department/cases/{id}). */
export interface CaseDetail extends DepartmentCase {
  description: string
  reported_party: string | null
  reply_text: string | null
  reopen_count: number
  history: CaseStep[]
}
export interface CaseContact {
  caller_name: string | null
  phone: string | null
  address: string | null
  anonymous: boolean
}

// The statuses the department moves a case from, and what it may do in each (casework's
// TRANSITIONS: accept from transferred; investigate from accepted; reply from either after).
export const STEPS_BY_STATUS: Record<string, readonly ('accept' | 'investigate' | 'reply')[]> = {
  transferred: ['accept'],
  accepted: ['investigate', 'reply'],
  investigating: ['reply'],
}

// Who records a limit's warning on the case (any other actor of a reminder is a supervisor).
export const SLA_MONITOR = 'sla_monitor'

export interface Urge {
  by: 'limit' | 'supervisor' | 'customer'
  at: string
}

/** The steps that pressed for the reply, oldest first: the SLA monitor's warning of a limit, the
 * duty supervisor's chase (催办), the customer calling again about it. */
export function urgedBy(history: CaseStep[]): Urge[] {
  return history.flatMap((s): Urge[] => {
    if (s.action === 'chase') return [{ by: 'customer', at: s.at }]
    if (s.action === 'remind') return [{ by: s.actor === SLA_MONITOR ? 'limit' : 'supervisor', at: s.at }]
    return []
  })
}

/** The send-back (退回重办) the department has not answered with a reply yet, if any. */
export function lastSentBack(history: CaseStep[]): CaseStep | null {
  const last = [...history].reverse().find((s) => s.action === 'send_back' || s.action === 'reply')
  return last?.action === 'send_back' ? last : null
}

/** Seconds to the reply limit now, counted down from what the console said at `loadedAt`. */
export function replyLeft(c: DepartmentCase, loadedAt: number, now: number): number | null {
  return countedDown(c.reply_seconds_left, loadedAt, now)
}

/** A limit days away in days and hours (a clock of 119:59:59 reads as nothing). */
export function daysAndHours(seconds: number): { d: number; h: number } {
  const s = Math.max(0, Math.floor(seconds))
  return { d: Math.floor(s / 86400), h: Math.floor((s % 86400) / 3600) }
}

const EMPTY: DepartmentQueue = { department_id: null, department_name: null, cases: [], departments: [], problems: [] }

/** The other departments a case of this type may go on to (casework refuses any other). */
export function forwardTo(caseType: string, queue: DepartmentQueue): DepartmentQueue['departments'] {
  return queue.departments.filter((d) => d.case_types.includes(caseType))
}

export const useDepartmentStore = defineStore('department', () => {
  const queue = ref<DepartmentQueue>(EMPTY)
  const loadedAt = ref(Date.now())
  const current = ref<CaseDetail | null>(null)
  const contact = ref<CaseContact | null>(null)

  async function load(): Promise<void> {
    queue.value = await unwrap(api.GET('/api/department/cases'))
    loadedAt.value = Date.now()
  }
  async function open(caseId: string): Promise<void> {
    if (current.value?.id !== caseId) contact.value = null // read again for another case only
    current.value = (await unwrap(
      api.GET('/api/department/cases/{case_id}', { params: { path: { case_id: caseId } } }),
    )) as unknown as CaseDetail
  }
  /** After a step: the case as casework now has it, and the queue (a replied case leaves it). */
  async function after(caseId: string): Promise<void> {
    await Promise.all([open(caseId), load()])
  }
  async function accept(caseId: string): Promise<void> {
    await unwrap(api.POST('/api/department/cases/{case_id}/accept', { params: { path: { case_id: caseId } } }))
    await after(caseId)
  }
  async function investigate(caseId: string, note: string): Promise<void> {
    await unwrap(
      api.POST('/api/department/cases/{case_id}/investigation', {
        params: { path: { case_id: caseId } },
        body: { note: note.trim() },
      }),
    )
    await after(caseId)
  }
  async function reply(caseId: string, text: string): Promise<void> {
    await unwrap(
      api.POST('/api/department/cases/{case_id}/reply', {
        params: { path: { case_id: caseId } },
        body: { text: text.trim() },
      }),
    )
    await after(caseId)
  }
  /** Not ours: on to the department that handles it, with why; it leaves this queue. */
  async function forward(caseId: string, departmentId: string, note: string): Promise<void> {
    await unwrap(
      api.POST('/api/department/cases/{case_id}/transfer', {
        params: { path: { case_id: caseId } },
        body: { department_id: departmentId, note: note.trim() },
      }),
    )
    close()
    await load()
  }
  /** 回退: not ours and no department we know handles it: back to the centre, with why, where
   * the duty supervisor transfers it anew; it leaves this queue. */
  async function returnToCentre(caseId: string, reason: string): Promise<void> {
    await unwrap(
      api.POST('/api/department/cases/{case_id}/return', {
        params: { path: { case_id: caseId } },
        body: { reason: reason.trim() },
      }),
    )
    close()
    await load()
  }
  /** Who to call about it, when casework's rules allow (every read is in its audit). */
  async function readContact(caseId: string): Promise<void> {
    contact.value = (await unwrap(
      api.GET('/api/department/cases/{case_id}/contact', { params: { path: { case_id: caseId } } }),
    )) as unknown as CaseContact
  }
  function close(): void {
    current.value = null
    contact.value = null
  }
  return { queue, loadedAt, current, contact, load, open, after, accept, investigate, reply, forward, returnToCentre, readContact, close }
})
