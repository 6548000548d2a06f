// Cases no department holds yet (首问负责制: transfer within the limit), the longest waiting first,
// and the supervisor's transfer to a department that handles the case's type (casework decides).
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, unwrap } from '@/api/client'
import { countedDown } from '@/util/format'

export interface WaitingCase {
  id: string
  ticket_id: string
  ticket_no: string | null
  case_type: string
  status: string
  opened_at: string
  complaint_grade: string | null
  anonymous: boolean
  transfer_due: string | null
  /** Seconds to the transfer limit when the console answered (negative: overdue). */
  transfer_seconds_left: number | null
  /** 回退: the department that handed the case back to the centre, and why. */
  returned?: { department_id: string | null; actor: string; at: string; reason: string | null } | null
}
export interface Department { id: string; name: string; case_types: string[]; active?: boolean }
interface Waiting { cases: WaitingCase[]; departments: Department[]; problems: { service?: string | null }[] }

/** The departments a case of this type may go to: casework refuses any other. */
export function departmentsFor(caseType: string, departments: Department[]): Department[] {
  return departments.filter((d) => d.case_types.includes(caseType))
}

/** The name of a department, or its id when it is no longer active. */
export function departmentName(id: string | null, departments: Department[]): string {
  return departments.find((d) => d.id === id)?.name ?? id ?? ''
}

/** Seconds to the case's transfer limit now, counted down from what the console said at `loadedAt`. */
export function transferLeft(c: WaitingCase, loadedAt: number, now: number): number | null {
  return countedDown(c.transfer_seconds_left, loadedAt, now)
}

export const useCasesStore = defineStore('cases', () => {
  const waiting = ref<Waiting>({ cases: [], departments: [], problems: [] })
  const loadedAt = ref(Date.now())

  async function load(): Promise<void> {
    waiting.value = (await unwrap(api.GET('/api/supervisor/cases/waiting-transfer'))) as unknown as Waiting
    loadedAt.value = Date.now()
  }
  async function transfer(caseId: string, departmentId: string, note: string): Promise<void> {
    await unwrap(
      api.POST('/api/supervisor/cases/{case_id}/transfer', {
        params: { path: { case_id: caseId } },
        body: { department_id: departmentId, note: note.trim() || null },
      }),
    )
    await load()
  }
  return { waiting, loadedAt, load, transfer }
})
