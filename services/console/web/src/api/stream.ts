// The live event stream (server-sent events read with fetch; the session cookie goes along).

export interface LiveMessage {
  kind: string
  type?: string
  data?: Record<string, unknown>
  floor?: Record<string, unknown>
  [key: string]: unknown
}

export function parseChunk(chunk: string): LiveMessage | null {
  const data = chunk
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => line.slice(6))
    .join('\n')
  if (!data) return null
  try {
    return JSON.parse(data) as LiveMessage
  } catch {
    return null
  }
}

/** The event's id (`id:` line), sent back as Last-Event-ID to resume after a dropped connection. */
export function chunkId(chunk: string): string | null {
  const line = chunk.split('\n').find((l) => l.startsWith('id: '))
  return line ? line.slice(4) : null
}

export function openStream(onMessage: (m: LiveMessage) => void, onState: (up: boolean) => void): () => void {
  let stopped = false
  let controller: AbortController | null = null
  let lastId: string | null = null
  async function run(): Promise<void> {
    while (!stopped) {
      controller = new AbortController()
      try {
        const response = await fetch('/api/events', {
          credentials: 'include',
          signal: controller.signal,
          headers: lastId ? { 'Last-Event-ID': lastId } : {},
        })
        if (!response.ok || !response.body) throw new Error(`stream ${response.status}`)
        onState(true)
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
        let buffer = ''
        for (;;) {
          const { value, done } = await reader.read()
          if (done) break
          buffer += value
          let cut = buffer.indexOf('\n\n')
          while (cut >= 0) {
            lastId = chunkId(buffer.slice(0, cut)) ?? lastId
            const message = parseChunk(buffer.slice(0, cut))
            buffer = buffer.slice(cut + 2)
            if (message) onMessage(message)
            cut = buffer.indexOf('\n\n')
          }
        }
      } catch {
        if (stopped) return
      }
      onState(false)
      if (!stopped) await new Promise((resolve) => setTimeout(resolve, 2000))
    }
  }
  void run()
  return () => {
    stopped = true
    controller?.abort()
  }
}
