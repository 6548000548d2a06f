// Open escalations with their context (agent, caller, ticket by name) and the supervisor's answer:
// accept, take over (the agent is told through intake's event), mark harassing, decline.
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

  async function resolve(id: string, outcome: Outcome): Promise<void> {
    await unwrap(
      api.POST('/api/supervisor/escalations/{escalation_id}/resolution', {
        params: { path: { escalation_id: id } },
        body: { outcome },
      }),
    )
    // Gone from the list at once; the reload confirms what intake holds.
    open.value = open.value.filter((e) => e.id !== id)
    await load()
  }

  return { open, load, resolve }
})
