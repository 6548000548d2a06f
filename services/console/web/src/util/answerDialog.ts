// The dispatcher's answer to what a crew handed in (a return to review, a request to cancel): one
// dialog per panel, opened on a row with the kind of answer, its text, and dispatch's refusal kept
// in the dialog. A 409 means someone else answered or the crew moved on: the board is read again.
import { ref, shallowRef } from 'vue'
import { ElMessage } from 'element-plus'
import { ApiError } from '@/api/client'

type Translate = (key: string, values?: Record<string, unknown>) => string

export function useAnswerDialog<Kind extends string, Row>(options: {
  t: Translate
  /** Send the answer to dispatch (through the BFF); throws its refusal. */
  send: (kind: Kind, row: Row, text: string) => Promise<void>
  /** The message key shown once an answer is taken. */
  done: (kind: Kind) => string
  /** Read the board again (after a 409). */
  reload: () => Promise<void>
}) {
  const answer = shallowRef<{ kind: Kind; order: Row } | null>(null)
  const text = ref('')
  const refusal = ref('')
  const busy = ref(false)
  function open(kind: Kind, order: Row, initial = ''): void {
    answer.value = { kind, order }
    text.value = initial
    refusal.value = ''
  }
  function close(): void {
    answer.value = null
  }
  async function confirm(ready: boolean): Promise<void> {
    const a = answer.value
    if (!a || !ready || busy.value) return
    busy.value = true
    refusal.value = ''
    try {
      await options.send(a.kind, a.order, text.value)
      answer.value = null
      ElMessage.success(options.t(options.done(a.kind)))
    } catch (e) {
      // Dispatch's refusal (409: nothing of the kind waits any more; 422: the reason) stays shown.
      refusal.value = options.t('dispatch.review.refused', { m: e instanceof Error ? e.message : String(e) })
      if (e instanceof ApiError && e.status === 409) await options.reload().catch(() => {})
    } finally {
      busy.value = false
    }
  }
  return { answer, text, refusal, busy, open, close, confirm }
}
