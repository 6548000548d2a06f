// The first-ask owner's answers (首问负责制): my cases whose department replied, the soonest due
// first, and the answer that tells casework the customer has heard (casework checks it is mine).
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, unwrap } from '@/api/client'
import { countedDown } from '@/util/format'

export interface CaseToAnswer {
  id: string
  ticket_id: string
  ticket_no: string | null
  case_type: string
  department_id: string | null
  department_name: string | null
  reply_text: string | null
  answer_due: string | null
  /** Seconds to the answer limit when the console answered (negative: overdue). */
  answer_seconds_left: number | null
}

/** Seconds to the answer limit now, counted down from what the console said at `loadedAt`. */
export function answerLeft(c: CaseToAnswer, loadedAt: number, now: number): number | null {
  return countedDown(c.answer_seconds_left, loadedAt, now)
}

export const useAnswersStore = defineStore('answers', () => {
  const cases = ref<CaseToAnswer[]>([])
  const loadedAt = ref(Date.now())

  async function load(): Promise<void> {
    cases.value = (await unwrap(api.GET('/api/cases/to-answer'))) as unknown as CaseToAnswer[]
    loadedAt.value = Date.now()
  }
  async function answer(caseId: string, text: string): Promise<void> {
    await unwrap(api.POST('/api/cases/{case_id}/answer', { params: { path: { case_id: caseId } }, body: { text: text.trim() } }))
    await load()
  }
  /** 审核: the reply does not do; the department works on it again, the reason before it. */
  async function sendBack(caseId: string, reason: string): Promise<void> {
    await unwrap(
      api.POST('/api/cases/{case_id}/send-back', { params: { path: { case_id: caseId } }, body: { reason: reason.trim() } }),
    )
    await load()
  }
  return { cases, loadedAt, load, answer, sendBack }
})
