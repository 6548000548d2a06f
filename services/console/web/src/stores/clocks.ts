// Every open deadline as a clock: filtered by kind, unit and owner (where its service knows one), most urgent first (the console sorts),
// counting down between reloads; chase (催办), pause with a reason and resume act on one clock.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api, unwrap, type Schemas } from '@/api/client'
import { countedDown } from '@/util/format'

export type Clock = Schemas['ClockRead']
export type Kind = Clock['kind']
export type PauseReason = Schemas['ClockPause']['reason']
export type Timeline = Schemas['Timeline']
export interface ChaseResult {
  service: string | null
  ok: boolean
  status?: string
}
export const KINDS: Kind[] = ['call', 'arrival', 'transfer', 'reply', 'callback', 'service']
export const PAUSE_REASONS: PauseReason[] = ['waiting_for_customer', 'customer_requested_appointment']

/** Seconds left now, counted down from what the console said at `loadedAt`; a stopped clock stays. */
export function secondsLeft(clock: Clock, loadedAt: number, now: number): number | null {
  // A stopped clock stands where it stopped.
  return clock.state === 'paused' ? (clock.seconds_left ?? null) : countedDown(clock.seconds_left, loadedAt, now)
}

/** Share of the span gone now (1 at the due time), from the due and opening times. */
export function elapsed(clock: Clock, now: number): number | null {
  if (!clock.due_at) return null
  const opened = Date.parse(clock.opened_at)
  const span = Date.parse(clock.due_at) - opened
  if (span <= 0) return null
  const at = clock.state === 'paused' && clock.paused_since ? Date.parse(clock.paused_since) : now
  return (at - opened) / span
}

export const useClocksStore = defineStore('clocks', () => {
  const clocks = ref<Clock[]>([])
  const kind = ref<Kind | null>(null)
  const unit = ref<string | null>(null)
  const owner = ref<string | null>(null)
  // Owners seen on any load: the choice stays whole while a filter narrows the list.
  const ownerNames = ref<Record<string, string>>({})
  const loadedAt = ref(0)
  const error = ref<string | null>(null)

  async function load(): Promise<void> {
    try {
      const query: { kind?: Kind; unit_id?: string; owner?: string } = {}
      if (kind.value) query.kind = kind.value
      if (unit.value) query.unit_id = unit.value
      if (owner.value) query.owner = owner.value
      clocks.value = await unwrap(api.GET('/api/supervisor/clocks', { params: { query } }))
      for (const c of clocks.value) if (c.owner) ownerNames.value[c.owner] = c.owner_name ?? c.owner
      loadedAt.value = Date.now()
      error.value = null
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e)
    }
  }

  /** The chase, and whether the service owning the work took it (casework, for a case). */
  async function chase(clock: Clock): Promise<ChaseResult> {
    const answer = await unwrap(
      api.POST('/api/supervisor/breaches/{deadline_id}/chase', {
        params: { path: { deadline_id: clock.id } },
        body: { ticket_id: clock.ticket_id ?? null, limit_key: clock.limit_key },
      }),
    )
    await load()
    const reached = (answer as { reached?: ChaseResult | null }).reached
    return reached ?? { service: null, ok: true }
  }

  async function pause(clock: Clock, reason: PauseReason, note: string): Promise<void> {
    await unwrap(
      api.POST('/api/supervisor/clocks/{deadline_id}/pause', {
        params: { path: { deadline_id: clock.id } },
        body: { reason, note: note.trim() || null },
      }),
    )
    await load()
  }

  async function resume(clock: Clock): Promise<void> {
    await unwrap(api.POST('/api/supervisor/clocks/{deadline_id}/resume', { params: { path: { deadline_id: clock.id } } }))
    await load()
  }

  /** The ticket's whole life (records service), for the drill-down from a clock. */
  const timeline = ref<Timeline | null>(null)
  async function openTimeline(ticketId: string): Promise<void> {
    timeline.value = await unwrap(
      api.GET('/api/records/tickets/{ticket_id}/timeline', { params: { path: { ticket_id: ticketId } } }),
    )
  }

  const units = computed(() => [...new Set(clocks.value.map((c) => c.unit_id).filter((u): u is string => !!u))].sort())

  const owners = computed(() =>
    Object.entries(ownerNames.value)
      .map(([key, name]) => ({ key, name }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  )
  return { clocks, kind, unit, owner, owners, loadedAt, error, units, timeline, load, chase, pause, resume, openTimeline }
})
