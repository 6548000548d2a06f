// The dispatcher board: crews, orders and incidents with their positions, each incident's
// topology graph, the needs-routing queue, the crews' returns waiting for review (回单审核) and
// requests to cancel (申请撤单), and the dispatcher's acts (dispatch decides).
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, unwrap, type Schemas } from '@/api/client'
import { countedDown } from '@/util/format'

export interface Crew { crew_id: string; unit_id: string; name: string; on_duty: boolean; latitude: number | null; longitude: number | null; open_orders: number }
export type DispatcherAct = 'route' | 'reassign' | 'cancel'
export interface Order {
  id: string
  ticket_id: string
  ticket_no?: string | null
  unit_id: string
  status: string
  crew_id?: string | null
  incident_id?: string | null
  latitude?: number | null
  longitude?: number | null
  address?: string | null
  arrive_by?: string | null
  /** Seconds to the arrival limit when the console answered (negative: overdue). */
  arrival_seconds_left?: number | null
  /** What dispatch lets the dispatcher do with the order in its state: the board offers only these. */
  dispatcher_acts?: DispatcherAct[]
  /** The crew asks to cancel it (申请撤单): answered in the requests panel. */
  cancel_requested?: boolean
}
/** What a crew found and did, as the records timeline names it. */
export const RESOLUTIONS = ['repaired', 'paid_service_referral', 'restored_with_outage'] as const
/** A crew's return (回单) waiting for the duty dispatcher's review, the longest waiting first. */
export interface ReturnedOrder extends Order {
  resolution?: string | null
  cause?: string | null
  /** The crew's notes on the work. */
  notes?: string | null
  returned_at?: string | null
  /** Why the dispatcher sent its previous return back (回单退回), if one was. */
  sent_back_reason?: string | null
  /** Seconds the return had waited for review when the console answered. */
  waiting_seconds?: number | null
}
/** A crew's request to cancel an order (申请撤单) waiting for the duty dispatcher's answer. */
export interface CancelRequest extends Order {
  /** Why the crew finds the order not needed: read to the customer if the order is cancelled. */
  cancel_reason?: string | null
  cancel_requested_at?: string | null
  /** Seconds the request had waited when the console answered. */
  waiting_seconds?: number | null
}
/** A photo the crew took on site and uploaded with its resolution (what a 回单审核 checks). */
export type SitePhoto = Schemas['SitePhoto']
/** Where the browser fetches a site photo's bytes (the session cookie signs an <img>'s request). */
export function sitePhotoUrl(orderId: string, photoId: string): string {
  return `/api/supervisor/dispatch/work-orders/${encodeURIComponent(orderId)}/photos/${encodeURIComponent(photoId)}`
}
export interface Unit { unit_id: string; name: string }
export interface GraphNode { id: string; kind: 'feeder' | 'transformer' | 'call'; name: string }
export interface Incident {
  id: string
  status: string
  transformer_id: string | null
  feeder_id: string | null
  latitude: number | null
  longitude: number | null
  linked_ticket_ids: string[]
  graph: { nodes: GraphNode[]; links: { source: string; target: string }[] }
}
export interface DispatchBoard {
  crews: Crew[]
  orders: Order[]
  incidents: Incident[]
  needs_routing: Order[]
  units: Unit[]
  awaiting_review: ReturnedOrder[]
  cancel_requests: CancelRequest[]
  problems: { service?: string | null }[]
}
export type AreaClass = 'urban' | 'rural' | 'remote'

export interface MapPoint { name: string; value: [number, number]; kind: 'crew' | 'order' | 'incident'; id: string }

/** What the coordinate map draws: every crew, order and incident that has a position. */
export function mapPoints(board: DispatchBoard | null): MapPoint[] {
  if (!board) return []
  const at = (lat: number | null | undefined, lon: number | null | undefined) =>
    lat === null || lat === undefined || lon === null || lon === undefined ? null : ([lon, lat] as [number, number])
  const points: MapPoint[] = []
  for (const c of board.crews) {
    const v = at(c.latitude, c.longitude)
    if (v) points.push({ name: c.name, value: v, kind: 'crew', id: c.crew_id })
  }
  for (const o of board.orders) {
    const v = at(o.latitude, o.longitude)
    // Named by its 工单号 (the id means nothing to a dispatcher); the address when intake gave none.
    if (v && !o.incident_id) points.push({ name: o.ticket_no ?? o.address ?? '', value: v, kind: 'order', id: o.id })
  }
  for (const i of board.incidents) {
    const v = at(i.latitude, i.longitude)
    if (v) points.push({ name: i.transformer_id ?? i.id, value: v, kind: 'incident', id: i.id })
  }
  return points
}

/** Seconds to the order's arrival limit now, counted down from what the console said at `loadedAt`. */
export function arrivalLeft(order: Order, loadedAt: number, now: number): number | null {
  return countedDown(order.arrival_seconds_left, loadedAt, now)
}

/** Seconds the return has waited for review now, counted up from what the console said at
 * `loadedAt` (on the server's clock): the browser's own clock only measures the time since. */
export function reviewWaited(order: { waiting_seconds?: number | null }, loadedAt: number, now: number): number | null {
  const waited = order.waiting_seconds
  return waited === null || waited === undefined ? null : waited + (now - loadedAt) / 1000
}

/** A send-back's reason as dispatch takes it: not blank, at most 500 characters once trimmed. */
export const REASON_MAX = 500
export function sendBackReady(reason: string): boolean {
  const r = reason.trim()
  return r.length > 0 && r.length <= REASON_MAX
}

export const useDispatchStore = defineStore('dispatch', () => {
  const board = ref<DispatchBoard | null>(null)
  const loadedAt = ref(Date.now())

  async function load(): Promise<void> {
    board.value = (await unwrap(api.GET('/api/supervisor/dispatch/board'))) as unknown as DispatchBoard
    loadedAt.value = Date.now()
  }
  async function restore(incidentId: string, cause: string): Promise<void> {
    await unwrap(api.POST('/api/supervisor/dispatch/incidents/{incident_id}/restoration', { params: { path: { incident_id: incidentId } }, body: { cause: cause.trim() || null } }))
    await load()
  }
  async function cancel(orderId: string, reason: string): Promise<void> {
    await unwrap(api.POST('/api/supervisor/dispatch/work-orders/{work_order_id}/cancellation', { params: { path: { work_order_id: orderId } }, body: { reason } }))
    await load()
  }
  async function reassign(orderId: string, crewId: string, reason: string): Promise<void> {
    await unwrap(api.PUT('/api/supervisor/dispatch/work-orders/{work_order_id}/assignment', { params: { path: { work_order_id: orderId } }, body: { crew_id: crewId, reason } }))
    await load()
  }
  async function route(orderId: string, unitId: string, areaClass: AreaClass, reason: string): Promise<void> {
    await unwrap(api.PUT('/api/supervisor/dispatch/work-orders/{work_order_id}/routing', { params: { path: { work_order_id: orderId } }, body: { unit_id: unitId, area_class: areaClass, reason } }))
    await load()
  }
  /** 审核通过: the ticket closes and goes to callback. */
  async function approveReturn(orderId: string, note: string): Promise<void> {
    await unwrap(api.POST('/api/supervisor/dispatch/work-orders/{work_order_id}/return-approval', { params: { path: { work_order_id: orderId } }, body: { note: note.trim() || null } }))
    await load()
  }
  /** 回单退回: back to the crew on site with the reason, to be resolved and returned again. */
  async function sendBackReturn(orderId: string, reason: string): Promise<void> {
    await unwrap(api.POST('/api/supervisor/dispatch/work-orders/{work_order_id}/return-send-back', { params: { path: { work_order_id: orderId } }, body: { reason: reason.trim() } }))
    await load()
  }
  /** 驳回撤单申请: the crew's request to cancel does not hold; the crew is told why and goes on. */
  async function refuseCancel(orderId: string, reason: string): Promise<void> {
    await unwrap(api.POST('/api/supervisor/dispatch/work-orders/{work_order_id}/cancellation-refusal', { params: { path: { work_order_id: orderId } }, body: { reason: reason.trim() } }))
    await load()
  }
  /** 现场照片: what the crew photographed on site, oldest first. */
  async function sitePhotos(orderId: string): Promise<SitePhoto[]> {
    return await unwrap(api.GET('/api/supervisor/dispatch/work-orders/{work_order_id}/photos', { params: { path: { work_order_id: orderId } } }))
  }
  return { board, loadedAt, load, restore, cancel, reassign, route, approveReturn, sendBackReturn, refuseCancel, sitePhotos }
})
