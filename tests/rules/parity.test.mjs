// The browser half of the rule-language parity check: every case of parity_cases.json through
// formular/static/js/rules.js. tests/rules/test_parity.py runs the same cases through the
// server's evaluator and runs this file with `node --test`, so the two cannot drift apart.
//
// FORMULAR_PARITY_CASES may name another case file (the generated differential cases).
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'

import { LogicError, apply, holds, truthy } from '../../formular/static/js/rules.js'

const file = process.env.FORMULAR_PARITY_CASES ?? new URL('./parity_cases.json', import.meta.url)
const cases = JSON.parse(readFileSync(file, 'utf8'))

/** Deep equality where numbers may differ by 1e-9 (relative beyond 1), like the Python side. */
function close(actual, expected) {
  if (typeof actual === 'number' && typeof expected === 'number') {
    return Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(actual), Math.abs(expected))
  }
  if (Array.isArray(actual) || Array.isArray(expected)) {
    return Array.isArray(actual) && Array.isArray(expected) && actual.length === expected.length &&
      actual.every((item, i) => close(item, expected[i]))
  }
  if (actual && expected && typeof actual === 'object' && typeof expected === 'object') {
    const keys = Object.keys(expected)
    return Object.keys(actual).length === keys.length &&
      keys.every((key) => Object.hasOwn(actual, key) && close(actual[key], expected[key]))
  }
  return actual === expected
}

test('the case file is not empty', () => {
  assert.ok(cases.length > 0, `no cases in ${file}`)
})

for (const { name, logic, data, result, error } of cases) {
  test(name, () => {
    if (error) {
      assert.throws(() => apply(logic, data), LogicError)
      assert.equal(holds(logic, data), false)
      return
    }
    const actual = apply(logic, data)
    assert.ok(
      close(actual, result),
      `expected ${JSON.stringify(result)}, got ${JSON.stringify(actual)}\nlogic: ${JSON.stringify(logic)}`,
    )
    assert.equal(holds(logic, data), truthy(result))
  })
}
