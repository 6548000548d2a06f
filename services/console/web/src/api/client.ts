// The one way to the BFF: a typed client generated from docs/openapi/console.json
// (schema.d.ts, checked for drift in the build). Requests carry the session cookie
// (`credentials: 'include'`: the server-side OIDC flow) and, only when the auth store holds
// one, a bearer token (the username/password sign-in until that flow lands).
import createClient from 'openapi-fetch'
import type { components, paths } from './schema'

export type Schemas = components['schemas']

export interface Problem {
  status: number
  type?: string
  title?: string
  detail?: string
  service?: string
  errors?: { field: string; message: string }[]
}

export class ApiError extends Error {
  readonly status: number
  readonly problem: Problem
  constructor(status: number, problem: Problem) {
    super(problem.detail || problem.title || `HTTP ${status}`)
    this.status = status
    this.problem = problem
  }
}

interface AuthHooks {
  unauthorized: () => void
}

const hooks: AuthHooks = { unauthorized: () => {} }

/** The auth store wires itself in here: what a 401 does. The session itself is an HttpOnly
 * cookie the browser sends; the page never holds a token. */
export function connectAuth(next: Partial<AuthHooks>): void {
  Object.assign(hooks, next)
}

const origin = typeof window !== 'undefined' && window.location ? window.location.origin : 'http://localhost'

export const api = createClient<paths>({ baseUrl: origin, credentials: 'include' })

interface Result<T> {
  data?: T
  error?: unknown
  response: Response
}

/** The data of a response, or an ApiError with the problem+json the BFF sent. */
export async function unwrap<T>(pending: Promise<Result<T>>): Promise<T> {
  const { data, error, response } = await pending
  if (!response.ok) {
    if (response.status === 401) hooks.unauthorized()
    const problem = (error && typeof error === 'object' ? error : {}) as Problem
    throw new ApiError(response.status, { ...problem, status: response.status })
  }
  return data as T
}

export function idempotencyKey(): string {
  return typeof crypto !== 'undefined' && 'randomUUID' in crypto
    ? crypto.randomUUID()
    : `${Date.now()}-${Math.random().toString(16).slice(2)}`
}
