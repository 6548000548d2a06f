import { afterEach, describe, expect, it, vi } from 'vitest'
import { chunkId, openStream } from '@/api/stream'

afterEach(() => vi.unstubAllGlobals())

function body(text: string): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text))
      controller.close()
    },
  })
}

describe('the live stream', () => {
  it('reads the id of each event', () => {
    expect(chunkId('id: e7\nevent: event\ndata: {}')).toBe('e7')
    expect(chunkId('event: hello\ndata: {}')).toBeNull()
  })

  it('resumes after a dropped connection with the last event id it saw', async () => {
    vi.useFakeTimers()
    const sent: (string | null)[] = []
    vi.stubGlobal('fetch', async (_url: string, init: { headers: Record<string, string> }) => {
      sent.push(init.headers['Last-Event-ID'] ?? null)
      return new Response(body('event: hello\ndata: {"kind":"hello"}\n\nid: e1\nevent: event\ndata: {"kind":"event"}\n\n'))
    })
    const seen: string[] = []
    const stop = openStream((m) => seen.push(m.kind), () => {})
    await vi.advanceTimersByTimeAsync(2500)
    stop()
    vi.useRealTimers()
    expect(sent.slice(0, 2)).toEqual([null, 'e1'])
    expect(seen.slice(0, 2)).toEqual(['hello', 'event'])
  })
})
