import { describe, expect, it } from 'vitest'
import zh from '@/i18n/zh-CN'
import en from '@/i18n/en'
import { COMPLAINT_GRADES, COMPLAINT_SUBTYPES, FAULT_SCOPES, TICKET_TYPES } from '@/forms/fields'
import { OUTCOMES } from '@/stores/callbacks'

type Tree = { [key: string]: string | Tree }

function keys(tree: Tree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([k, v]) => (typeof v === 'string' ? [`${prefix}${k}`] : keys(v, `${prefix}${k}.`)))
}
function lookup(tree: Tree, path: string): unknown {
  return path.split('.').reduce<unknown>((node, part) => (node && typeof node === 'object' ? (node as Tree)[part] : undefined), tree)
}

describe('translations', () => {
  it('have the same keys in both languages, none empty', () => {
    expect(keys(en as unknown as Tree).sort()).toEqual(keys(zh as unknown as Tree).sort())
    for (const key of keys(zh as unknown as Tree)) {
      expect(String(lookup(zh as unknown as Tree, key)).trim(), key).not.toBe('')
      expect(String(lookup(en as unknown as Tree, key)).trim(), key).not.toBe('')
    }
  })

  it('name every closed list the desk shows, in both languages', () => {
    const lists: [string, readonly string[]][] = [
      ['types', TICKET_TYPES],
      ['scope', FAULT_SCOPES],
      ['subtype', COMPLAINT_SUBTYPES],
      ['grade', COMPLAINT_GRADES],
      ['callback.outcomes', OUTCOMES],
      ['state', ['offline', 'ready', 'not_ready', 'ringing', 'talking', 'wrap_up']],
      ['reasons', ['break', 'meal', 'training', 'meeting', 'after_call_paperwork', 'other']],
      ['wrapCodes', ['resolved', 'ticket_recorded', 'information_given', 'callback_promised', 'transferred', 'silent_call', 'wrong_number', 'dropped']],
      ['situations', ['silent_call', 'inaudible', 'wrong_number', 'system_fault', 'kind_invitation', 'dialect']],
    ]
    for (const [prefix, values] of lists) {
      for (const value of values) {
        expect(lookup(zh as unknown as Tree, `${prefix}.${value}`), `${prefix}.${value}`).toBeTypeOf('string')
        expect(lookup(en as unknown as Tree, `${prefix}.${value}`), `${prefix}.${value}`).toBeTypeOf('string')
      }
    }
  })

  it('use full-width punctuation in Chinese sentences', () => {
    for (const key of keys(zh as unknown as Tree)) {
      const text = String(lookup(zh as unknown as Tree, key))
      if (/[\u4e00-\u9fff]/.test(text)) expect(text, key).not.toMatch(/[\u4e00-\u9fff][,?!:][^/]/)
    }
  })
})
