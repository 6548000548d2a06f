// The search box over records (agent desk and supervisor): one box that reads what was typed as
// a 工单号, a phone number, a name or part of an address, the type/status/date filters, keyset
// pages, and the timeline of the ticket opened. What a report shows is records' decision
// (confidentiality): the page only renders what comes back.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, unwrap, type Schemas } from '@/api/client'

export type RecordTicket = Schemas['RecordTicket']
export type Timeline = Schemas['Timeline']
export type SearchField = 'auto' | 'ticket_no' | 'phone' | 'name' | 'address'
export const SEARCH_FIELDS: readonly SearchField[] = ['auto', 'ticket_no', 'phone', 'name', 'address']
// Every status records gives a ticket, in the order of a ticket's life: intake's, the work
// order's steps (dispatch), the case's (casework), the callback's. A status missing here read
// 其他状态 on the screen (a repair on its way, a closed complaint) and could not be searched for.
export const RECORD_STATUSES = [
  'recorded',
  'dispatched',
  'assigned',
  'accepted',
  'en_route',
  'on_site',
  'resolved',
  'returned',
  'cancelled',
  'restored',
  'case_opened',
  'opened',
  'transferred',
  'investigating',
  'replied',
  'answered',
  'completed',
  'callback_due',
  'called_back',
  'callback_unreached',
  'callback_declined',
  'reopen_requested',
  'reopened',
  'closed',
] as const

export interface Filters {
  types: string[]
  status: string
  /** First and last day, YYYY-MM-DD in the business timezone */
  days: [string, string] | null
}

// 工单号: the date and a running number, digits only (2026120100000119).
const TICKET_NO = /^\d{14,20}$/
// A phone in any format the caller reads it out: +86, spaces, dashes, brackets.
const PHONE = /^\+?[\d\s\-()]{7,20}$/
// Words that make a text an address rather than a name.
const ADDRESS_HINT = /[路街道巷弄号幢栋楼单元室村镇区县市省]|\d/

/** Which search field the typed text is, when the agent leaves the choice to the box. */
export function classify(text: string): Exclude<SearchField, 'auto'> {
  const value = text.trim()
  if (TICKET_NO.test(value)) return 'ticket_no'
  if (PHONE.test(value) && value.replace(/\D/g, '').length >= 7) return 'phone'
  if (ADDRESS_HINT.test(value) || value.length > 6) return 'address'
  return 'name'
}

/** The query of GET /api/records/tickets. */
export function searchQuery(text: string, field: SearchField, filters: Filters): Record<string, unknown> {
  const query: Record<string, unknown> = {}
  const value = text.trim()
  if (value) query[field === 'auto' ? classify(value) : field] = value
  if (filters.types.length) query.ticket_type = [...filters.types]
  if (filters.status) query.status = filters.status
  if (filters.days) {
    query.recorded_from = filters.days[0]
    query.recorded_to = filters.days[1]
  }
  return query
}

export const useRecordsStore = defineStore('records', () => {
  const text = ref('')
  const field = ref<SearchField>('auto')
  const filters = ref<Filters>({ types: [], status: '', days: null })
  const items = ref<RecordTicket[]>([])
  const nextCursor = ref<string | null>(null)
  const searched = ref(false)
  const loading = ref(false)
  const error = ref<string | null>(null)
  const timeline = ref<Timeline | null>(null)
  // How many answers came back: what a page (and a browser test) waits on after asking again.
  const answered = ref(0)
  let asked: Record<string, unknown> = {}

  async function page(cursor: string | null): Promise<void> {
    loading.value = true
    error.value = null
    try {
      const query = { ...asked, ...(cursor ? { cursor } : {}), limit: 20 }
      const answer = await unwrap(api.GET('/api/records/tickets', { params: { query: query as never } }))
      items.value = cursor ? [...items.value, ...answer.items] : answer.items
      nextCursor.value = answer.next_cursor ?? null
      searched.value = true
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e)
    } finally {
      loading.value = false
      answered.value += 1
    }
  }

  async function search(): Promise<void> {
    asked = searchQuery(text.value, field.value, filters.value)
    await page(null)
  }

  async function more(): Promise<void> {
    if (nextCursor.value) await page(nextCursor.value)
  }

  async function open(ticketId: string): Promise<void> {
    error.value = null
    try {
      timeline.value = await unwrap(
        api.GET('/api/records/tickets/{ticket_id}/timeline', { params: { path: { ticket_id: ticketId } } }),
      )
    } catch (e) {
      timeline.value = null
      error.value = e instanceof Error ? e.message : String(e)
    }
  }

  function close(): void {
    timeline.value = null
  }

  return { text, field, filters, items, nextCursor, searched, loading, answered, error, timeline, search, more, open, close }
})
