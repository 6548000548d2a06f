// The callback worklist: the task I hold (with its script and the number to call) and the
// tasks done this shift; the callback service leases one task at a time to one agent.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api, idempotencyKey, unwrap } from '@/api/client'
import { useWorklistStore } from '@/stores/worklist'

export interface CallbackTask {
  id: string
  ticket_id: string
  ticket_type: string
  due_at: string
  overdue: boolean
  attempts: number
  max_attempts: number
}
export interface CallbackStep {
  zh?: string
  en?: string
  text?: string
}
export interface Assigned {
  task: CallbackTask
  contact: { phone: string | null; customer_name: string | null }
  script?: { steps?: (CallbackStep | string)[]; question?: CallbackStep | string } & Record<string, unknown>
}
export interface DoneTask {
  task: CallbackTask
  outcome: string
  at: string
}

export const OUTCOMES = ['satisfied', 'basically_satisfied', 'unsatisfied', 'unreachable', 'declined'] as const
export type Outcome = (typeof OUTCOMES)[number]

export function stepText(step: CallbackStep | string, language: 'zh' | 'en'): string {
  if (typeof step === 'string') return step
  return step[language] ?? step.zh ?? step.text ?? ''
}

export const useCallbackStore = defineStore('callbacks', () => {
  // The whole worklist on the same desk shows which tasks are held: taking or closing one
  // changes it, so it is read again (it showed the task just taken as free until 刷新).
  const worklist = useWorklistStore()
  const current = ref<Assigned | null>(null)
  const done = ref<DoneTask[]>([])
  const empty = ref(false)
  const error = ref<string | null>(null)
  const count = computed(() => done.value.length + (current.value ? 1 : 0))

  async function take(): Promise<void> {
    error.value = null
    try {
      const answer = (await unwrap(api.POST('/api/callbacks/next'))) as unknown as Assigned | { task: null }
      if (!answer || !answer.task) {
        current.value = null
        empty.value = true
        return
      }
      empty.value = false
      current.value = answer as Assigned
      void worklist.load()
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e)
    }
  }

  async function record(outcome: Outcome, reason: string, words: string): Promise<boolean> {
    const held = current.value
    if (!held) return false
    try {
      await unwrap(
        api.POST('/api/callbacks/{task_id}/outcome', {
          params: { path: { task_id: held.task.id }, header: { 'idempotency-key': idempotencyKey() } },
          body: { outcome, reason: reason.trim() || null, customer_words: words.trim() || null },
        }),
      )
      done.value.unshift({ task: held.task, outcome, at: new Date().toISOString() })
      current.value = null
      void worklist.load()
      return true
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e)
      return false
    }
  }

  return { current, done, empty, error, count, take, record }
})
