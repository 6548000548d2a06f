// Open escalations with their context (agent, caller, ticket by name) and the supervisor's answer:
// accept, take over (the agent is told through intake's event), mark harassing, decline with a reason.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, unwrap, type Schemas } from '@/api/client'

export type Escalation = Schemas['EscalationContext']
export type Outcome = Schemas['EscalationResolve']['outcome']
export const ESCALATION_OUTCOMES: Outcome[] = ['accepted', 'taken_over', 'marked_harassing', 'declined']

export const useEscalationsStore = defineStore('escalations', () => {
  const open = ref<Escalation[]>([])

  async function load(): Promise<void> {
    open.value = await unwrap(api.GET('/api/supervisor/escalations/context'))
  }

  /** `reason`: why (a decline must say; the agent is told). */
  async function resolve(id: string, outcome: Outcome, reason?: string): Promise<void> {
    await unwrap(
      api.POST('/api/supervisor/escalations/{escalation_id}/resolution', {
        params: { path: { escalation_id: id } },
        body: reason === undefined ? { outcome } : { outcome, reason },
      }),
    )
    // Gone from the list at once; the reload confirms what intake holds.
    open.value = open.value.filter((e) => e.id !== id)
    await load()
  }

  return { open, load, resolve }
})
