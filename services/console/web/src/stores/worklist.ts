// Every callback task still waiting (not only the one I hold): a filtered, paged list, soonest
// due first, for the agent planning the shift and the supervisor watching the backlog.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, unwrap, type Schemas } from '@/api/client'
import type { TicketType } from '@/forms/fields'

export type WaitingCallback = Schemas['WaitingCallback']
export const PAGE_SIZE = 10

export const useWorklistStore = defineStore('worklist', () => {
  const items = ref<WaitingCallback[]>([])
  const total = ref(0)
  const page = ref(1)
  const ticketType = ref<string>('')
  const overdueOnly = ref(false)
  const loading = ref(false)
  const error = ref<string | null>(null)

  async function load(): Promise<void> {
    loading.value = true
    error.value = null
    try {
      const query = {
        ticket_type: (ticketType.value || undefined) as TicketType | undefined,
        due: overdueOnly.value ? ('overdue' as const) : ('all' as const),
        limit: PAGE_SIZE,
        offset: (page.value - 1) * PAGE_SIZE,
      }
      const answer = await unwrap(api.GET('/api/callbacks/waiting', { params: { query } }))
      items.value = answer.items
      total.value = answer.total
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e)
    } finally {
      loading.value = false
    }
  }

  /** A new filter starts again at the first page. */
  async function filter(type: string, overdue: boolean): Promise<void> {
    ticketType.value = type
    overdueOnly.value = overdue
    page.value = 1
    await load()
  }

  async function goTo(n: number): Promise<void> {
    page.value = n
    await load()
  }

  return { items, total, page, ticketType, overdueOnly, loading, error, load, filter, goTo }
})
