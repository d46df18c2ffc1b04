/**
 * Formulär's rule language in the browser: a JSON Logic subset, evaluated for show/hide,
 * "required while", skip logic and live calculated values.
 *
 * THE SERVER IS AUTHORITATIVE. formular/definitions/rules.py evaluates the same rules with
 * the Python library maykin-json-logic-py and its answer is the one that counts: hidden
 * answers are dropped and calculated values recomputed there. This module exists so the page
 * shows what the server will decide, so it reproduces the *server's* semantics, Python quirks
 * included, rather than those of json-logic-js. tests/rules/parity_cases.json is the contract
 * both implementations are tested against; change the two together. In short:
 *
 *  - Every argument is evaluated first; `if`/`and`/`or` do not short-circuit, so an error in
 *    an untaken branch (division by zero) fails the whole expression, as on the server.
 *  - Values follow Python: truthiness (`{}` is false), `==` compares str() when a string is
 *    involved (`null == "None"`), `<` converts with float(), `+` parses numeric strings, `*`
 *    and `/` always give floats, `cat` prints Python str() (`True`, `6.0`, `['a', 'b']`).
 *  - Python tells 6.0 from 6 and JavaScript cannot, so a float with a whole value is carried
 *    as a `Float` box while evaluating (other numbers: whole = int, otherwise float).
 *  - Failures throw LogicError where the server raises LogicError; `holds` turns them into
 *    false, like the server's `holds`.
 *
 * Known limits (also listed in rules.py; no real form reaches them): integer text beyond
 * 2**53 used in arithmetic, digits added to Unicode after 14.0, objects with integer-like keys
 * printed by `cat`, lone UTF-16 surrogates, answers nested hundreds of levels deep.
 *
 * No dependencies, no build step: import { apply, truthy, holds } from "./rules.js".
 */

export class LogicError extends Error {
  constructor(message) {
    super(message)
    this.name = 'LogicError'
  }
}

export const MAX_DEPTH = 20
export const MAX_NODES = 500
const SAFE = 2 ** 53

// [fewest, most] arguments per operator; the same table as _ARITY in rules.py.
const ARITY = {
  var: [1, 2], missing: [1, Infinity], missing_some: [2, 2],
  '==': [2, 2], '!=': [2, 2], '===': [2, 2], '!==': [2, 2],
  '<': [2, 3], '<=': [2, 3], '>': [2, 2], '>=': [2, 2],
  '!': [1, 1], '!!': [1, 1], and: [1, Infinity], or: [1, Infinity], if: [2, Infinity],
  in: [2, 2], '+': [1, Infinity], '-': [1, 2], '*': [1, Infinity], '/': [2, 2],
  min: [1, Infinity], max: [1, Infinity], cat: [1, Infinity],
}
export const OPERATORS = Object.freeze(Object.keys(ARITY))

const fail = (message) => { throw new LogicError(message) }

// ---- Python values ------------------------------------------------------------------------

/** A Python float whose value is whole (6.0): JavaScript's 6 would pass for the int 6. */
class Float {
  constructor(value) { this.value = value }
}
const isBool = (x) => typeof x === 'boolean'
const isNumber = (x) => typeof x === 'number' || x instanceof Float // int or float, not bool
const isInt = (x) => typeof x === 'number' && Number.isInteger(x) && Math.abs(x) <= SAFE
const isFloat = (x) => x instanceof Float || (isNumber(x) && !isInt(x))
const isDict = (x) => x !== null && typeof x === 'object' && !Array.isArray(x) && !(x instanceof Float)
const isPath = (x) => typeof x === 'string' || isInt(x)
/** Number value of a bool, int or float. */
const num = (x) => (x instanceof Float ? x.value : Number(x))
/** The result of a float operation, boxed when whole so it stays a float. */
const float = (v) => (Number.isInteger(v) && Math.abs(v) <= SAFE ? new Float(v) : v)

function pyType(x) {
  if (x === null) return 'NoneType'
  if (isBool(x)) return 'bool'
  if (isNumber(x)) return isFloat(x) ? 'float' : 'int'
  if (typeof x === 'string') return 'str'
  return Array.isArray(x) ? 'list' : 'dict'
}

/** Python truthiness: 0, 0.0, "", null, false, [] and {} are false (NaN is true). */
export function truthy(x) {
  if (x === null || x === undefined || x === false) return false
  if (isNumber(x)) return num(x) !== 0
  if (typeof x === 'string' || Array.isArray(x)) return x.length > 0
  if (isDict(x)) return Object.keys(x).length > 0
  return true
}

/** Python ==. */
function eq(a, b) {
  const na = isNumber(a) || isBool(a)
  const nb = isNumber(b) || isBool(b)
  if (na || nb) return na && nb && num(a) === num(b)
  if (a === null || b === null || typeof a === 'string' || typeof b === 'string') return a === b
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => eq(x, b[i]))
  }
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && eq(a[k], b[k]))
}

/** Python < between two values (numbers, strings by code point, lists); TypeError otherwise. */
function lt(a, b) {
  if ((isNumber(a) || isBool(a)) && (isNumber(b) || isBool(b))) return num(a) < num(b)
  if (typeof a === 'string' && typeof b === 'string') {
    const x = Array.from(a, (c) => c.codePointAt(0))
    const y = Array.from(b, (c) => c.codePointAt(0))
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] < y[i]
    return x.length < y.length
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (!eq(a[i], b[i])) return lt(a[i], b[i])
    return a.length < b.length
  }
  return fail(`TypeError: '<' between ${pyType(a)} and ${pyType(b)}`)
}

/** Python repr() of a float. */
function floatRepr(v) {
  if (Number.isNaN(v)) return 'nan'
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf'
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0'
  // toExponential() gives the shortest round-tripping digits, like Python's repr().
  const [mantissa, exponent] = Math.abs(v).toExponential().split('e')
  const digits = mantissa.replace('.', '')
  const e = Number(exponent)
  const sign = v < 0 ? '-' : ''
  if (e < -4 || e >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits
    return `${sign}${m}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`
  }
  if (e < 0) return `${sign}0.${'0'.repeat(-e - 1)}${digits}`
  if (digits.length <= e + 1) return `${sign}${digits}${'0'.repeat(e + 1 - digits.length)}.0`
  return `${sign}${digits.slice(0, e + 1)}.${digits.slice(e + 1)}`
}

const NOT_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u
const hex = (n, width) => n.toString(16).padStart(width, '0')

/** Python repr() of a string. */
function strRepr(s) {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'"
  let out = quote
  for (const ch of s) {
    const cp = ch.codePointAt(0)
    if (ch === quote || ch === '\\') out += `\\${ch}`
    else if (ch === '\t') out += '\\t'
    else if (ch === '\n') out += '\\n'
    else if (ch === '\r') out += '\\r'
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(cp, 2)}`
    else if (cp < 0x7f || !NOT_PRINTABLE.test(ch)) out += ch
    else if (cp <= 0xff) out += `\\x${hex(cp, 2)}`
    else if (cp <= 0xffff) out += `\\u${hex(cp, 4)}`
    else out += `\\U${hex(cp, 8)}`
  }
  return out + quote
}

/** Python str(). */
function str(x) {
  if (x === null) return 'None'
  if (isBool(x)) return x ? 'True' : 'False'
  if (typeof x === 'string') return x
  if (isInt(x)) return String(x)
  if (isNumber(x)) return floatRepr(num(x))
  const repr = (y) => (typeof y === 'string' ? strRepr(y) : str(y))
  if (Array.isArray(x)) return `[${x.map(repr).join(', ')}]`
  return `{${Object.entries(x).map(([k, v]) => `${repr(k)}: ${repr(v)}`).join(', ')}}`
}

// Python's int() and float() of a string: non-ASCII spaces and decimal digits of any script
// count, underscores may separate digits, float() also takes exponents, "inf" and "nan".
const UNICODE_SPACE = /[\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u
const DIGIT = /\p{Nd}/u
const INT_TEXT = /^[ \t\n\v\f\r]*([+-]?\d(?:_?\d)*)[ \t\n\v\f\r]*$/
const FLOAT_TEXT = /^[ \t\n\v\f\r]*([+-]?(?:(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?|(?:inf|infinity|nan)))[ \t\n\v\f\r]*$/i

function asciiNumberText(s) {
  let out = ''
  for (const ch of s) {
    if (ch.codePointAt(0) < 0x7f) out += ch
    else if (UNICODE_SPACE.test(ch)) out += ' '
    else if (DIGIT.test(ch)) {
      // Decimal digits come in runs of ten, 0 to 9: the value is the distance from the run's 0.
      let zero = ch.codePointAt(0)
      while (DIGIT.test(String.fromCodePoint(zero - 1))) zero--
      out += String((ch.codePointAt(0) - zero) % 10)
    } else out += '?'
  }
  return out
}

function pyInt(s) {
  const match = INT_TEXT.exec(asciiNumberText(s))
  if (!match) fail('ValueError: invalid literal for int()')
  const text = match[1].replace(/_/g, '')
  if (text.replace(/^[+-]/, '').length > 4300) fail('ValueError: too many digits')
  const n = Number(text)
  return n === 0 ? 0 : n
}

function pyFloat(s) {
  const match = FLOAT_TEXT.exec(asciiNumberText(s))
  if (!match) fail('ValueError: could not convert string to float')
  const text = match[1].replace(/_/g, '').toLowerCase()
  const sign = text.startsWith('-') ? -1 : 1
  if (/inf/.test(text)) return sign * Infinity
  if (/nan/.test(text)) return NaN
  return float(Number(text))
}

/** The library's to_numeric(): strings to int (or float if they hold a "."), else as is. */
const toNumeric = (x) => (typeof x === 'string' ? (x.includes('.') ? pyFloat(x) : pyInt(x)) : x)

/** Python float(): null when Python raises TypeError (callers decide), throws on ValueError. */
function toFloat(x) {
  if (isBool(x) || isNumber(x)) return num(x)
  if (typeof x === 'string') return num(pyFloat(x))
  return null
}

/** An operand of + and -: bool, int or float (after toNumeric), else TypeError. */
function operand(x) {
  if (isBool(x) || isNumber(x)) return [num(x), isFloat(x)]
  return fail(`TypeError: unsupported operand ${pyType(x)}`)
}

// ---- Operators ----------------------------------------------------------------------------

/** The library's soft_equals (==). */
function softEquals(a, b) {
  if (typeof a === 'string' || typeof b === 'string') return str(a) === str(b)
  if (isBool(a) || isBool(b)) return truthy(a) === truthy(b)
  return eq(a, b)
}

/** The library's less (<): float() both sides when either is a number. */
function less(a, b, ...rest) {
  if (isNumber(a) || isNumber(b)) {
    const x = toFloat(a)
    if (x === null) return false
    const y = toFloat(b)
    if (y === null) return false
    a = x
    b = float(y)
    if (!(x < y)) return false
  } else if (!lt(a, b)) return false
  return rest.length === 0 || less(b, ...rest)
}

/** The library's less_or_equal (<=): less, or soft-equal. */
const lessOrEqual = (a, b, ...rest) =>
  (less(a, b) || softEquals(a, b)) && (rest.length === 0 || lessOrEqual(b, ...rest))

function contains(a, b) {
  if (typeof b === 'string') {
    if (typeof a !== 'string') fail(`TypeError: 'in <string>' requires string, not ${pyType(a)}`)
    return b.includes(a)
  }
  if (Array.isArray(b)) return b.some((x) => eq(a, x))
  if (isDict(b)) {
    if (Array.isArray(a) || isDict(a)) fail(`TypeError: unhashable type: '${pyType(a)}'`)
    return typeof a === 'string' && Object.hasOwn(b, a)
  }
  return false
}

function minus(a, b) {
  const [x, xf] = operand(toNumeric(a))
  if (b === undefined) return xf ? float(-x) : -x || 0
  const [y, yf] = operand(toNumeric(b))
  return xf || yf ? float(x - y) : x - y
}

function plus(...args) {
  let total = 0
  let isF = false
  for (const arg of args) {
    const [v, f] = operand(toNumeric(arg))
    total += v
    isF ||= f
  }
  return isF ? float(total) : total
}

function times(...args) {
  let product = 1
  for (const arg of args) {
    const v = toFloat(arg)
    if (v === null) fail(`TypeError: float() of ${pyType(arg)}`)
    product *= v
  }
  return float(product)
}

function divide(a, b) {
  const x = toFloat(a)
  if (x === null) fail(`TypeError: float() of ${pyType(a)}`)
  const y = toFloat(b)
  if (y === null) fail(`TypeError: float() of ${pyType(b)}`)
  if (y === 0) fail('ZeroDivisionError: float division by zero')
  return float(x / y)
}

const OPS = {
  '==': softEquals,
  '!=': (a, b) => !softEquals(a, b),
  '===': (a, b) => pyType(a) === pyType(b) && eq(a, b),
  '!==': (a, b) => !(pyType(a) === pyType(b) && eq(a, b)),
  '<': less,
  '<=': lessOrEqual,
  '>': (a, b) => less(b, a),
  '>=': (a, b) => less(b, a) || softEquals(a, b),
  '!': (a) => !truthy(a),
  '!!': (a) => truthy(a),
  and: (...args) => args.reduce((total, arg) => (truthy(total) ? arg : total), true),
  or: (...args) => args.reduce((total, arg) => (truthy(total) ? total : arg), false),
  if: (...args) => {
    for (let i = 0; i + 1 < args.length; i += 2) if (truthy(args[i])) return args[i + 1]
    return args.length % 2 ? args[args.length - 1] : null
  },
  in: contains,
  '+': plus,
  '-': minus,
  '*': times,
  '/': divide,
  min: (...args) => args.reduce((best, x) => (lt(x, best) ? x : best)),
  max: (...args) => args.reduce((best, x) => (lt(best, x) ? x : best)),
  cat: (...args) => args.map(str).join(''),
}

// The library returns null when any argument of these is null ("not answered yet").
const NULL_IF_ANY_NULL = new Set(['<', '<=', '>', '>=', '+', '-', '*', '/', 'min', 'max'])

// ---- Variables ----------------------------------------------------------------------------

const NOT_FOUND = Symbol('not found')

/** The library's get_var: dotted path; list and string items by (Python) integer index. */
function getVar(data, path, notFound = null) {
  if (path === '' || path === null) return data
  let value = data
  for (const key of String(path).split('.')) {
    if (isDict(value)) {
      if (!Object.hasOwn(value, key)) return notFound
      value = value[key]
    } else if (Array.isArray(value) || typeof value === 'string') {
      const items = Array.isArray(value) ? value : Array.from(value)
      let index
      try {
        index = pyInt(key)
      } catch {
        return notFound
      }
      if (index < 0) index += items.length
      if (!(index >= 0 && index < items.length)) return notFound
      value = items[index]
    } else return notFound
  }
  return value === null && notFound !== null ? notFound : value
}

function missing(data, names) {
  if (names.length && Array.isArray(names[0])) names = names[0]
  return names.filter((name) => getVar(data, name, NOT_FOUND) === NOT_FOUND)
}

function missingSome(data, least, names) {
  if (least < 1) return []
  const absent = []
  let found = 0
  for (const name of names) {
    if (getVar(data, name, NOT_FOUND) === NOT_FOUND) absent.push(name)
    else if (++found >= least) return []
  }
  return absent
}

// ---- Checking and evaluating --------------------------------------------------------------

/** Throw unless `logic` is in the subset: the same rules as check_logic in rules.py. */
function check(logic) {
  let nodes = 0
  const visit = (node, depth) => {
    if (++nodes > MAX_NODES) fail(`the expression has more than ${MAX_NODES} nodes`)
    if (node !== null && typeof node === 'object') {
      if (depth > MAX_DEPTH) fail(`the expression is nested more than ${MAX_DEPTH} levels deep`)
      const children = Array.isArray(node) ? node : checkOperation(node)
      for (const child of children) visit(child, depth + 1)
    } else if (!(node === null || ['string', 'boolean'].includes(typeof node) || Number.isFinite(node))) {
      fail(`${typeof node} is not a JSON value`)
    }
  }
  visit(logic, 1)
}

function checkOperation(node) {
  const keys = Object.keys(node)
  if (keys.length !== 1) fail('an operation must be an object with exactly one key')
  const [op] = keys
  if (!Object.hasOwn(ARITY, op)) fail(`operator '${op}' is not allowed in rules`)
  const args = Array.isArray(node[op]) ? node[op] : [node[op]]
  const [fewest, most] = ARITY[op]
  if (args.length < fewest || args.length > most) fail(`'${op}' takes ${fewest}-${most} arguments`)
  if (op === 'var' && !isPath(args[0])) fail('a field reference must be a literal path')
  if (op === 'missing') {
    if (Array.isArray(args[0]) && args.length > 1) fail("'missing' takes names or one list")
    if (!(Array.isArray(args[0]) ? args[0] : args).every(isPath)) fail('missing: literal names')
  }
  if (op === 'missing_some' && !(isInt(args[0]) && Array.isArray(args[1]) && args[1].every(isPath))) {
    fail("'missing_some' takes a whole number and a list of names")
  }
  return args
}

function evaluate(node, data) {
  if (Array.isArray(node)) return node.map((item) => evaluate(item, data))
  if (node === null || typeof node !== 'object') return node
  const [op] = Object.keys(node)
  const args = (Array.isArray(node[op]) ? node[op] : [node[op]]).map((arg) => evaluate(arg, data))
  if (op === 'var') return getVar(data, ...args)
  if (op === 'missing') return missing(data, args)
  if (op === 'missing_some') return missingSome(data, ...args)
  if (NULL_IF_ANY_NULL.has(op) && args.includes(null)) return null
  return OPS[op](...args)
}

/** The value as JSON: unbox floats, reject inf/nan (the server raises on them too). */
function output(value) {
  if (isNumber(value)) {
    const v = num(value)
    if (!Number.isFinite(v)) fail('not a finite number')
    return v === 0 ? 0 : v
  }
  return Array.isArray(value) ? value.map(output) : value
}

/**
 * Evaluate `logic` against `data` (the answers; inside a repeating group, the root answers
 * overlaid with the row's). Throws LogicError when the expression is outside the subset or
 * fails on this data, exactly where the server's evaluate() raises.
 */
export function apply(logic, data) {
  check(logic)
  try {
    return output(evaluate(logic, truthy(data) ? data : {}))
  } catch (error) {
    if (error instanceof LogicError) throw error
    throw new LogicError(`evaluation failed (${error.name})`) // e.g. RangeError on absurd data
  }
}

/** Whether `condition` holds; false when it cannot be evaluated, as on the server. */
export function holds(condition, data) {
  try {
    return truthy(apply(condition, data))
  } catch (error) {
    if (error instanceof LogicError) return false
    throw error
  }
}
