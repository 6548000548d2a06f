// The agent desk: my seat, the call ringing or in hand, the caller card, the script, the ticket,
// situations, closing, escalation, wrap-up. The seat and call come from the shared floor
// (GET /api/desk/state); what the agent has typed is saved as the call's draft
// (PUT /api/desk/draft), so a reload mid-call restores the call, the script position and
// the fields.
import { defineStore } from 'pinia'
import { computed, reactive, ref } from 'vue'
import { api, idempotencyKey, unwrap, type Schemas } from '@/api/client'
import type { LiveMessage } from '@/api/stream'
import {
  PROMISED_TYPES,
  TICKET_TYPES,
  closingFor,
  formFor,
  isEmpty,
  missingRequired,
  ticketBody,
  type ScriptInfo,
  type TicketType,
} from '@/forms/fields'

export interface ScriptChoice {
  value: unknown
  label: string
}
export interface ScriptStep {
  script: string
  node_id: string | null
  prompt: string | null
  key: string | null
  is_field: boolean
  agent_only: boolean
  optional: boolean
  choices: ScriptChoice[]
  fields_required: string[]
  outcome: { kind: string; ticket_type: string | null; note: string } | null
  done: boolean
  path: string[]
}
export interface TicketSummary {
  id: string
  no: string
  ticket_type: string
  status: string
  recorded_at: string
  owner?: string
  description?: string
}
export interface RecordedTicket extends TicketSummary {
  linked?: { message: string; ticket_no: string | null } | null
}
export interface Customer {
  customer_id: string
  name: string | null
  address: string | null
  area_code: string | null
  meter_no: string | null
  sensitive: boolean
}
export interface CallerCard {
  caller_number: string
  customers: Customer[]
  open_tickets: TicketSummary[]
  recent_tickets: TicketSummary[]
  active_outages: { incident_id: string; area_codes: string[]; expected_restore_at: string | null; cause: string | null }[]
  planned_outages?: { planned_outage_id: string; area_codes: string[]; starts_at: string; ends_at: string; in_effect: boolean }[]
  flags: { repeat_caller: boolean; sensitive_customer: boolean; harassing_number: boolean }
}
export type Lines = Schemas['GreetingRead']
export type Seat = Schemas['SeatRead']
export type Offer = Schemas['OfferRead']

export interface Escalation {
  id: string
  reason: string
  note: string
  outcome: string | null
  /** Why, as the supervisor said (a decline always does). */
  because?: string | null
}

/** Everything about the call in hand that a reload must bring back. */
export interface CallDraft {
  callId: string
  callerNumber: string | null
  queue: string
  rangAt: string
  answeredAt: string | null
  ended: boolean
  endedAt: string | null
  ticketType: TicketType
  answers: Record<string, unknown>
  form: Record<string, unknown>
  note: string
  reply: string
  recorded: RecordedTicket | null
  completed: boolean
  situation: string | null
  situationAt: string | null
  dialect: string
  callbackNumber: string
  escalation: Escalation | null
  /** The reply deadline to promise (complaints, reports), once the SLA monitor has opened it. */
  promiseDue: string | null
  /** The customer the agent linked the call to (found in the directory by name, account or address). */
  linkedCustomer?: string | null
  idem: string
}

export function newDraft(offer: Offer, answeredAt: string | null): CallDraft {
  return {
    callId: offer.call_id,
    callerNumber: offer.caller_number ?? null,
    queue: offer.queue,
    rangAt: offer.rang_at,
    answeredAt,
    ended: false,
    endedAt: null,
    ticketType: 'repair',
    answers: {},
    form: offer.caller_number ? { phone: offer.caller_number } : {},
    note: '',
    reply: '',
    recorded: null,
    completed: false,
    situation: null,
    situationAt: null,
    dialect: '',
    callbackNumber: '',
    escalation: null,
    promiseDue: null,
    idem: idempotencyKey(),
  }
}

/** Fill the form from the caller card's customer (what the directory already knows). */
export function prefill(draft: CallDraft, card: CallerCard | null): void {
  const customer = card?.customers?.[0]
  if (!customer) return
  const set = (key: string, value: unknown) => {
    if (value && (draft.form[key] === undefined || draft.form[key] === '')) draft.form[key] = value
  }
  set('caller_name', customer.name)
  set('address', customer.address)
  set('area_code', customer.area_code)
  set('customer_number', customer.customer_id)
}

export const useDeskStore = defineStore('desk', () => {
  const seat = ref<Seat | null>(null)
  const offer = ref<Offer | null>(null)
  const call = ref<CallDraft | null>(null)
  const card = ref<CallerCard | null>(null)
  const cardFor = ref<string | null>(null)
  // The call the agent linked to a customer: its card is that customer's, not the number's.
  const linked = ref<{ callId: string; customerId: string } | null>(null)
  const greeting = ref<Lines | null>(null)
  const situationLines = ref<Lines | null>(null)
  const closing = ref<Lines | null>(null)
  const step = ref<ScriptStep | null>(null)
  const scripts = ref<ScriptInfo[]>([])
  const codes = ref<Schemas['DeskCodes'] | null>(null)
  const tickets = ref<TicketSummary[]>([])
  const language = ref<'zh' | 'en'>('zh')
  const now = ref(Date.now())
  const errors = reactive<string[]>([])
  const busy = ref(false)

  const state = computed(() => seat.value?.state ?? 'offline')
  const answerLimit = computed(() => codes.value?.answer_limit_seconds ?? 12)
  const script = computed(() => scripts.value.find((s) => s.ticket_type === call.value?.ticketType))
  const fields = computed(() => formFor(script.value))
  const missing = computed(() => (call.value ? missingRequired(fields.value, call.value.form) : []))
  const outcomeType = computed(() => {
    const o = step.value?.outcome
    return o && o.ticket_type && (o.kind === 'create_ticket' || o.kind === 'link_to_existing') ? o.ticket_type : null
  })
  const ringSeconds = computed(() => {
    const rang = offer.value?.rang_at ?? call.value?.rangAt
    if (!rang) return 0
    const end = call.value?.answeredAt ? Date.parse(call.value.answeredAt) : now.value
    return Math.max(0, (end - Date.parse(rang)) / 1000)
  })
  const talkSeconds = computed(() => {
    if (!call.value?.answeredAt) return 0
    const end = call.value.endedAt ? Date.parse(call.value.endedAt) : now.value
    return Math.max(0, (end - Date.parse(call.value.answeredAt)) / 1000)
  })
  const wrapSeconds = computed(() => {
    if (state.value !== 'wrap_up' || !seat.value?.since) return 0
    return Math.max(0, (now.value - Date.parse(seat.value.since)) / 1000)
  })
  const needsPromise = computed(() => {
    const type = call.value?.recorded?.ticket_type ?? outcomeType.value ?? call.value?.ticketType
    return !!type && PROMISED_TYPES.includes(type)
  })

  function fail(error: unknown): void {
    errors.push(error instanceof Error ? error.message : String(error))
  }

  // ------------------------------------------------------------------ start, refresh
  async function load(): Promise<void> {
    const [c, s] = await Promise.allSettled([
      unwrap(api.GET('/api/desk/codes')),
      unwrap(api.GET('/api/scripts')) as Promise<unknown>,
    ])
    if (c.status === 'fulfilled') codes.value = c.value
    if (s.status === 'fulfilled') scripts.value = s.value as ScriptInfo[]
    await refresh()
    void loadTickets()
  }

  /** The floor's word on my seat; restores a call in hand (and its draft) after a reload. */
  async function refresh(): Promise<void> {
    if (busy.value) return // answering: the answer itself sets up the call
    let desk: Schemas['DeskStateRead']
    try {
      desk = await unwrap(api.GET('/api/desk/state'))
    } catch (error) {
      fail(error)
      return
    }
    if (busy.value) return // an answer started while this was asked
    seat.value = desk.seat
    offer.value = desk.offer ?? null
    if (offer.value && cardFor.value !== offer.value.call_id) void loadCard(offer.value.call_id)
    const inHand = desk.call ?? null
    if (inHand && call.value?.callId !== inHand.call_id) {
      await restore(inHand, desk.answered_at ?? null, desk.seat.state === 'wrap_up')
    } else if (!inHand && call.value && !offer.value && ['ready', 'not_ready', 'offline'].includes(desk.seat.state)) {
      clearCall()
    } else if (inHand && call.value && desk.seat.state === 'wrap_up' && !call.value.ended) {
      call.value.ended = true
      call.value.endedAt = call.value.endedAt ?? desk.seat.since ?? new Date().toISOString()
    }
  }

  async function restore(inHand: Offer, answeredAt: string | null, ended: boolean): Promise<void> {
    let draft: CallDraft | null = null
    try {
      const saved = await unwrap(api.GET('/api/desk/draft'))
      if (saved && saved.call_id === inHand.call_id) draft = saved.data as unknown as CallDraft
    } catch {
      /* no draft: start the call's screen afresh */
    }
    call.value = draft ?? newDraft(inHand, answeredAt)
    if (ended && !call.value.ended) {
      call.value.ended = true
      call.value.endedAt = seat.value?.since ?? new Date().toISOString()
    }
    if (call.value.linkedCustomer) linked.value = { callId: inHand.call_id, customerId: call.value.linkedCustomer }
    await Promise.allSettled([loadCard(inHand.call_id), loadGreeting(), advance(false)])
    if (call.value?.situation) void showSituation(call.value.situation, false)
    if (call.value?.escalation && !call.value.escalation.outcome) void checkEscalation()
    void loadClosing()
  }

  function clearCall(): void {
    call.value = null
    linked.value = null
    card.value = null
    cardFor.value = null
    greeting.value = null
    situationLines.value = null
    closing.value = null
    step.value = null
  }

  // ------------------------------------------------------------------ live messages
  function onMessage(message: LiveMessage): void {
    const data = (message.data ?? {}) as Record<string, unknown>
    if (message.kind === 'agent' && seat.value && data.agent_id === seat.value.agent_id) {
      seat.value = data as unknown as Seat
      if (['ringing', 'talking', 'wrap_up'].includes(String(data.state)) || call.value) void refresh()
    } else if (message.kind === 'offer') {
      offer.value = data as unknown as Offer
      void loadCard(String(data.call_id))
    } else if (message.kind === 'offer_withdrawn') {
      if (offer.value?.call_id === data.call_id) {
        offer.value = null
        card.value = null
        cardFor.value = null
      }
    } else if (message.kind === 'call_ended') {
      const c = call.value
      if (c && c.callId === data.call_id && !c.ended) {
        c.ended = true
        c.endedAt = new Date().toISOString()
        saveDraft()
      }
    } else if (message.kind === 'event' && message.type === 'escalation.resolved') {
      const esc = call.value?.escalation
      if (esc && esc.id === data.escalation_id) {
        esc.outcome = String(data.outcome)
        esc.because = data.reason ? String(data.reason) : null
        saveDraft()
      }
    }
  }

  // ------------------------------------------------------------------ state
  async function setState(next: 'ready' | 'not_ready', reason?: string): Promise<void> {
    try {
      const body = { state: next, reason: (reason ?? null) as Schemas['DeskStateUpdate']['reason'] }
      const desk = await unwrap(api.PUT('/api/desk/state', { body }))
      seat.value = desk.seat
      offer.value = desk.offer ?? null
      if (offer.value) void loadCard(offer.value.call_id)
    } catch (error) {
      fail(error)
    }
  }

  // ------------------------------------------------------------------ ringing: screen pop
  async function loadCard(callId: string): Promise<void> {
    cardFor.value = callId
    try {
      const answer = (await unwrap(
        api.GET('/api/calls/{call_id}/card', { params: { path: { call_id: callId }, query: { language: language.value } } }),
      )) as unknown as { card: CallerCard; greeting: Lines }
      if (cardFor.value !== callId) return
      if (linked.value?.callId === callId) void linkCustomer(linked.value.customerId)
      else card.value = answer.card
      greeting.value = answer.greeting
      if (call.value?.callId === callId) prefill(call.value, card.value)
    } catch (error) {
      fail(error)
    }
  }

  /** Link the call ringing or in hand to a customer found in the directory: the caller card
   * becomes that customer's and fills what the form still lacks; a reload keeps the link. */
  async function linkCustomer(customerId: string): Promise<boolean> {
    const callId = call.value?.callId ?? offer.value?.call_id ?? null
    try {
      const found = (await unwrap(
        api.POST('/api/customers/link', { body: { customer_id: customerId, call_id: callId } }),
      )) as unknown as CallerCard
      card.value = found
      if (callId) linked.value = { callId, customerId }
      if (call.value) {
        call.value.linkedCustomer = customerId
        prefill(call.value, found)
        saveDraft()
      }
      return true
    } catch (error) {
      fail(error)
      return false
    }
  }

  /** The caller gives another number (their account's): its card replaces the card and
   * fills what the form still lacks. */
  async function lookUpNumber(number: string): Promise<void> {
    try {
      const found = (await unwrap(
        api.GET('/api/desk/caller-cards/{number}', { params: { path: { number } } }),
      )) as unknown as CallerCard
      card.value = found
      if (call.value) {
        prefill(call.value, found)
        saveDraft()
      }
    } catch (error) {
      fail(error)
    }
  }

  async function loadGreeting(): Promise<void> {
    if (!call.value) return
    try {
      greeting.value = await unwrap(
        api.GET('/api/desk/lines', { params: { query: { call_id: call.value.callId, language: language.value } } }),
      )
    } catch (error) {
      fail(error)
    }
  }

  // ------------------------------------------------------------------ answer, hang up, wrap up
  async function answer(): Promise<void> {
    const ringing = offer.value
    if (!ringing || busy.value) return
    busy.value = true
    try {
      const result = (await unwrap(
        api.POST('/api/agent/calls/{call_id}/answer', { params: { path: { call_id: ringing.call_id } } }),
      )) as unknown as { call?: { answered_at?: string }; card?: CallerCard; greeting?: Lines }
      if (call.value?.callId !== ringing.call_id) {
        call.value = newDraft(ringing, result.call?.answered_at ?? new Date().toISOString())
      }
      offer.value = null
      const link = linked.value?.callId === ringing.call_id ? linked.value.customerId : null
      if (link) call.value.linkedCustomer = link
      else if (result.card) card.value = result.card
      if (result.greeting) greeting.value = result.greeting
      prefill(call.value, card.value)
      await advance(false)
      void loadClosing()
      saveDraft()
    } catch (error) {
      fail(error)
    } finally {
      busy.value = false
    }
    void refresh()
  }

  async function hangUp(): Promise<void> {
    if (!call.value || call.value.ended) return
    try {
      await unwrap(api.POST('/api/agent/calls/{call_id}/hangup', { params: { path: { call_id: call.value.callId } } }))
      call.value.ended = true
      call.value.endedAt = new Date().toISOString()
      saveDraft()
      await refresh()
    } catch (error) {
      fail(error)
    }
  }

  async function wrapUp(code: string, ready: boolean, reason?: string): Promise<void> {
    try {
      const body = {
        code: code as Schemas['DeskWrapUp']['code'],
        ready,
        reason: (reason ?? null) as Schemas['DeskWrapUp']['reason'],
        call_id: call.value?.callId ?? null,
      }
      const desk = await unwrap(api.POST('/api/desk/wrap-up', { body }))
      clearCall()
      seat.value = desk.seat
      offer.value = desk.offer ?? null
      if (offer.value) void loadCard(offer.value.call_id)
      void loadTickets()
    } catch (error) {
      fail(error)
    }
  }

  // ------------------------------------------------------------------ script
  async function advance(save = true): Promise<void> {
    if (!call.value) return
    try {
      step.value = (await unwrap(
        api.POST('/api/scripts/{ticket_type}/next', {
          params: { path: { ticket_type: call.value.ticketType } },
          body: { answers: call.value.answers, language: language.value },
        }),
      )) as unknown as ScriptStep
    } catch (error) {
      fail(error)
    }
    if (save) saveDraft()
  }

  async function answerStep(value: unknown): Promise<void> {
    const current = step.value
    if (!call.value || !current?.key) return
    call.value.answers[current.key] = value
    if (current.is_field) call.value.form[current.key] = value
    await advance()
  }

  async function chooseType(type: string): Promise<void> {
    if (!call.value || !(TICKET_TYPES as readonly string[]).includes(type)) return
    call.value.ticketType = type as TicketType
    call.value.answers = {}
    await advance()
    void loadClosing()
  }

  async function restartScript(): Promise<void> {
    if (!call.value) return
    call.value.answers = {}
    await advance()
  }

  // ------------------------------------------------------------------ ticket
  async function recordTicket(): Promise<RecordedTicket | null> {
    const c = call.value
    if (!c || c.recorded) return null
    if (missing.value.length) return null
    const type = outcomeType.value ?? c.ticketType
    const specs = formFor(scripts.value.find((s) => s.ticket_type === type)) ?? fields.value
    const customer = card.value?.customers?.[0]
    const body = ticketBody(type, specs.length ? specs : fields.value, c.form, {
      call_id: c.callId,
      script: step.value?.script,
      note_to_customer: c.note,
      customer_id: customer?.customer_id,
      // The area the agent chose for the address, else the directory's.
      area_code: isEmpty(c.form.area_code) ? customer?.area_code : c.form.area_code,
      meter_no: customer?.meter_no,
    })
    try {
      const recorded = (await unwrap(
        api.POST('/api/tickets', {
          body: body as Record<string, never>,
          params: { header: { 'idempotency-key': c.idem } },
        }),
      )) as unknown as RecordedTicket
      c.recorded = recorded
      saveDraft()
      void loadTickets()
      void loadClosing()
      return recorded
    } catch (error) {
      fail(error)
      return null
    }
  }

  async function completeTicket(): Promise<void> {
    const c = call.value
    if (!c?.recorded || !c.reply.trim()) return
    try {
      await unwrap(
        api.POST('/api/desk/tickets/{ticket_id}/complete', {
          params: { path: { ticket_id: c.recorded.id } },
          body: { reply: c.reply.trim() },
        }),
      )
      c.completed = true
      saveDraft()
      void loadTickets()
    } catch (error) {
      fail(error)
    }
  }

  async function loadTickets(): Promise<void> {
    try {
      tickets.value = (await unwrap(api.GET('/api/tickets/mine'))) as unknown as TicketSummary[]
    } catch {
      /* the list stays as it was */
    }
  }

  // ------------------------------------------------------------------ what the agent says
  async function showSituation(situation: string | null, save = true): Promise<void> {
    if (!call.value) return
    if (save) {
      call.value.situation = situation
      call.value.situationAt = situation ? new Date().toISOString() : null
      saveDraft()
    }
    if (!situation) {
      situationLines.value = null
      return
    }
    try {
      if (situation === 'dialect') {
        situationLines.value = await unwrap(
          api.GET('/api/desk/lines', { params: { query: { call_id: call.value.callId, language: 'dialect' } } }),
        )
      } else {
        situationLines.value = await unwrap(
          api.GET('/api/desk/lines', {
            params: {
              query: {
                call_id: call.value.callId,
                language: language.value,
                situation: [situation as Schemas['DeskCodes']['situations'][number]],
              },
            },
          }),
        )
      }
    } catch (error) {
      fail(error)
    }
  }

  async function loadClosing(): Promise<void> {
    const c = call.value
    if (!c) return
    const type = c.recorded?.ticket_type ?? outcomeType.value ?? c.ticketType
    try {
      closing.value = await unwrap(
        api.GET('/api/desk/lines', {
          params: {
            query: {
              call_id: c.callId,
              language: language.value,
              closing_for: closingFor(type),
            },
          },
        }),
      )
    } catch (error) {
      fail(error)
    }
  }

  /** The reply deadline of the recorded complaint or report (asked until it is there). */
  async function loadPromise(): Promise<void> {
    const c = call.value
    if (!c?.recorded || c.promiseDue || !PROMISED_TYPES.includes(c.recorded.ticket_type)) return
    try {
      const promise = await unwrap(
        api.GET('/api/desk/tickets/{ticket_id}/reply-promise', { params: { path: { ticket_id: c.recorded.id } } }),
      )
      if (promise?.due_at) {
        c.promiseDue = promise.due_at
        saveDraft()
      }
    } catch {
      /* asked again shortly */
    }
  }

  // ------------------------------------------------------------------ escalation
  async function escalate(reason: string, note: string): Promise<void> {
    const c = call.value
    if (!c || c.escalation) return
    try {
      const body: Record<string, unknown> = { kind: 'help', reason, call_id: c.callId }
      if (note.trim()) body.note = note.trim()
      if (c.recorded) body.ticket_id = c.recorded.id
      if (c.callerNumber) body.caller_number = c.callerNumber
      const made = (await unwrap(api.POST('/api/escalations', { body: body as Record<string, never> }))) as unknown as {
        id: string
      }
      c.escalation = { id: made.id, reason, note: note.trim(), outcome: null }
      saveDraft()
    } catch (error) {
      fail(error)
    }
  }

  async function checkEscalation(): Promise<void> {
    const esc = call.value?.escalation
    if (!esc || esc.outcome) return
    try {
      const read = await unwrap(
        api.GET('/api/desk/escalations/{escalation_id}', { params: { path: { escalation_id: esc.id } } }),
      )
      if (read.outcome) {
        esc.outcome = read.outcome
        esc.because = read.reason ?? null
        saveDraft()
      }
    } catch {
      /* asked again on the next tick */
    }
  }

  // ------------------------------------------------------------------ the draft
  let saveTimer: ReturnType<typeof setTimeout> | null = null
  function saveDraft(): void {
    if (saveTimer) clearTimeout(saveTimer)
    saveTimer = setTimeout(() => void flushDraft(), 300)
  }

  async function flushDraft(): Promise<void> {
    saveTimer = null
    const c = call.value
    if (!c) return
    try {
      await unwrap(
        api.PUT('/api/desk/draft', { body: { call_id: c.callId, data: JSON.parse(JSON.stringify(c)) } }),
      )
    } catch {
      /* saved again on the next change */
    }
  }

  function setLanguage(locale: string): void {
    language.value = locale === 'en' ? 'en' : 'zh'
    if (call.value) {
      void advance(false)
      void loadGreeting()
      void loadClosing()
      if (call.value.situation) void showSituation(call.value.situation, false)
    } else if (offer.value) {
      void loadCard(offer.value.call_id)
    }
  }

  function tick(): void {
    now.value = Date.now()
  }

  return {
    seat,
    offer,
    call,
    card,
    linkCustomer,
    greeting,
    situationLines,
    closing,
    step,
    scripts,
    codes,
    tickets,
    language,
    now,
    errors,
    busy,
    state,
    answerLimit,
    script,
    fields,
    missing,
    outcomeType,
    ringSeconds,
    talkSeconds,
    wrapSeconds,
    needsPromise,
    load,
    refresh,
    onMessage,
    setState,
    loadCard,
    lookUpNumber,
    answer,
    hangUp,
    wrapUp,
    advance,
    answerStep,
    chooseType,
    restartScript,
    recordTicket,
    completeTicket,
    loadTickets,
    showSituation,
    loadClosing,
    loadPromise,
    escalate,
    checkEscalation,
    saveDraft,
    flushDraft,
    setLanguage,
    tick,
  }
})
