import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'

const queue: unknown[] = []
const posted: { path: string; init?: unknown }[] = []
vi.mock('@/api/client', () => ({
  api: {
    POST: async (path: string, init?: unknown) => {
      posted.push({ path, init })
      return { data: queue.shift() ?? null, response: new Response(null, { status: 200 }) }
    },
  },
  unwrap: async (pending: Promise<{ data: unknown }>) => (await pending).data,
  idempotencyKey: () => 'key-1',
}))
const { useCallbackStore, stepText } = await import('@/stores/callbacks')

const task = (id: string) => ({
  task: { id, ticket_id: `t-${id}`, ticket_type: 'consultation', due_at: '2026-12-03T02:00:00Z', overdue: false, attempts: 0, max_attempts: 3 },
  contact: { phone: '13905710001', customer_name: '李四' },
  script: { steps: [{ zh: '您好', en: 'Hello' }] },
})

beforeEach(() => {
  setActivePinia(createPinia())
  queue.length = 0
  posted.length = 0
})

describe('the callback worklist', () => {
  it('works through several tasks, keeping the ones done this shift', async () => {
    const callbacks = useCallbackStore()
    queue.push(task('a'))
    await callbacks.take()
    expect(callbacks.current?.task.id).toBe('a')
    queue.push({})
    expect(await callbacks.record('satisfied', '', ' 很好 ')).toBe(true)
    expect(posted[1].init).toMatchObject({ params: { path: { task_id: 'a' } }, body: { outcome: 'satisfied', customer_words: '很好', reason: null } })
    queue.push(task('b'))
    await callbacks.take()
    queue.push({})
    await callbacks.record('unsatisfied', '还没修好', '')
    expect(callbacks.done.map((d) => [d.task.id, d.outcome])).toEqual([
      ['b', 'unsatisfied'],
      ['a', 'satisfied'],
    ])
    expect(callbacks.current).toBeNull()
  })

  it('says so when nothing is due', async () => {
    const callbacks = useCallbackStore()
    queue.push({ task: null })
    await callbacks.take()
    expect(callbacks.empty).toBe(true)
  })

  it('reads the script in the desk language', () => {
    expect(stepText({ zh: '您好', en: 'Hello' }, 'en')).toBe('Hello')
    expect(stepText('直接文本', 'zh')).toBe('直接文本')
  })
})
