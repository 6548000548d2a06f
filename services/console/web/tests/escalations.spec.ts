import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'

const calls: { method: string; path: string; init?: unknown }[] = []
const replies: unknown[] = []
const reply = (method: string) => async (path: string, init?: unknown) => {
  calls.push({ method, path, init })
  return { data: replies.shift() ?? [], response: new Response(null, { status: 200 }) }
}
vi.mock('@/api/client', () => ({
  api: { GET: reply('GET'), POST: reply('POST') },
  unwrap: async (pending: Promise<{ data: unknown }>) => (await pending).data,
}))
const { useEscalationsStore } = await import('@/stores/escalations')

const help = (id: string) => ({ id, reason: 'agitated', agent_id: 'agent-1001', agent_name: '王晓丽', status: 'open' })

beforeEach(() => {
  setActivePinia(createPinia())
  calls.length = 0
  replies.length = 0
})

describe('the escalations store', () => {
  it('takes over a call and drops it from the open list, then reloads', async () => {
    const escalations = useEscalationsStore()
    replies.push([help('a'), help('b')])
    await escalations.load()
    expect(escalations.open.map((e) => e.agent_name)).toEqual(['王晓丽', '王晓丽'])
    replies.push({}, [help('b')])
    await escalations.resolve('a', 'taken_over')
    expect(calls[1]).toEqual({
      method: 'POST',
      path: '/api/supervisor/escalations/{escalation_id}/resolution',
      init: { params: { path: { escalation_id: 'a' } }, body: { outcome: 'taken_over' } },
    })
    expect(calls[2].path).toBe('/api/supervisor/escalations/context')
    expect(escalations.open.map((e) => e.id)).toEqual(['b'])
  })

  it('declines with the reason the agent is told', async () => {
    const escalations = useEscalationsStore()
    replies.push({}, [])
    await escalations.resolve('a', 'declined', '政策咨询，请按知识库答复')
    expect((calls[0].init as { body: unknown }).body).toEqual({ outcome: 'declined', reason: '政策咨询，请按知识库答复' })
  })
})
