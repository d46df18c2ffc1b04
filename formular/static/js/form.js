/**
 * Progressive enhancement of a form page. Everything works without this module: the server
 * re-evaluates conditions on each page post. With it, conditional questions show and hide at
 * once, calculated values update as you type, "none of these" clears the other boxes, and the
 * page is saved in the background so a closed tab loses nothing.
 *
 * The rules come from the server as data (#form-plan) and are evaluated by rules.js, whose
 * semantics are proven equal to the server's by a shared table of cases.
 */
import { apply, holds } from './rules.js'

const form = document.getElementById('form-page')
const plan = JSON.parse(document.getElementById('form-plan')?.textContent || '{}')
const saved = JSON.parse(document.getElementById('form-answers')?.textContent || '{}')

function coerce (name, text) {
  if (text === undefined || text === null) return undefined
  const type = plan.fields?.[name]
  const trimmed = String(text).trim()
  if (trimmed === '') return undefined
  const options = plan.values?.[name]
  if (options) {
    const match = options.find((value) => String(value) === trimmed)
    return match === undefined ? trimmed : match
  }
  if (type === 'yes-no') return trimmed === 'true'
  if (type === 'integer' || type === 'scale') {
    const number = Number(trimmed)
    return Number.isInteger(number) ? number : undefined
  }
  if (type === 'decimal') {
    const number = Number(trimmed.replace(/\s/g, '').replace(',', '.'))
    return Number.isFinite(number) ? number : undefined
  }
  return trimmed
}

/** The current answers of inputs inside `scope`, keyed by answer name (prefix stripped). */
function readInputs (scope, prefix = '') {
  const data = {}
  for (const element of scope.querySelectorAll('input, select, textarea')) {
    if (!element.name || element.name.startsWith('_') || element.name === 'csrf_token') continue
    if (element.type === 'file' || element.name.endsWith('__keep')) continue
    if (!element.name.startsWith(prefix)) continue
    const name = element.name.slice(prefix.length)
    if (name.includes('-')) continue // a repeating group's row input
    if (element.closest('[hidden]')) continue
    if (element.type === 'checkbox') {
      if (!Array.isArray(data[name])) data[name] = []
      if (element.checked) data[name].push(coerce(name, element.value))
    } else if (element.type === 'radio') {
      if (element.checked) data[name] = coerce(name, element.value)
      else if (!(name in data)) data[name] = undefined
    } else {
      data[name] = coerce(name, element.value)
    }
  }
  // An unanswered multiple choice is no answer (not an empty list); decided once every box of
  // the question was read, so a later checked box still counts.
  for (const [name, value] of Object.entries(data)) {
    if (plan.fields?.[name] === 'multi-choice' && Array.isArray(value) && value.length === 0) {
      data[name] = undefined
    }
  }
  return data
}

function clean (data) {
  const result = {}
  for (const [key, value] of Object.entries(data)) {
    if (value !== undefined) result[key] = value
  }
  return result
}

function setHidden (element, hidden) {
  if (element.hidden !== hidden) element.hidden = hidden
}

function showRulesFor (id) {
  return (plan.rules || []).filter((rule) => rule.show.includes(id))
}

function calculate (scope, data) {
  for (const calc of plan.calculations || []) {
    const output = scope.querySelector(`output[data-calculated="${calc.name}"]`)
    if (!output) continue
    let text = '–'
    try {
      const value = apply(calc.expression, data)
      if (typeof value === 'number' && Number.isFinite(value)) {
        text = value.toFixed(calc.decimals ?? 1)
        if (document.documentElement.lang === 'sv') text = text.replace('.', ',')
      }
    } catch (error) {
      text = '–'
    }
    if (output.textContent !== text) output.textContent = text
    if (text !== '–') data[calc.name] = Number(text.replace(',', '.'))
  }
}

/** Decide visibility until nothing changes (hiding one element can hide those that read it). */
function refresh () {
  for (let pass = 0; pass < 5; pass++) {
    let changed = false
    const data = clean({ ...saved, ...readInputs(form) })
    calculate(form, data)
    for (const element of form.querySelectorAll('[data-element]')) {
      if (element.closest('.repetition')) continue
      const rules = showRulesFor(element.dataset.element)
      // No rule of its own: shown whenever its section or page is (the server marks it hidden
      // while an enclosing element is, so a section a rule opens must open its items too).
      const hidden = rules.length > 0 && !rules.some((rule) => holds(rule.when, data))
      if (element.hidden !== hidden) changed = true
      setHidden(element, hidden)
    }
    for (const row of form.querySelectorAll('.repetition')) {
      const prefix = `${row.dataset.group}-${row.dataset.index}-`
      const rowData = clean({ ...data, ...readInputs(row, prefix) })
      calculate(row, rowData)
      for (const element of row.querySelectorAll('[data-element]')) {
        const rules = showRulesFor(element.dataset.element)
        const hidden = rules.length > 0 && !rules.some((rule) => holds(rule.when, rowData))
        if (element.hidden !== hidden) changed = true
        setHidden(element, hidden)
      }
    }
    if (!changed) break
  }
}

function exclusiveOptions (event) {
  const box = event.target
  if (box.type !== 'checkbox' || !box.checked) return
  const values = plan.values?.[box.name] || []
  const group = form.querySelectorAll(`input[type=checkbox][name="${box.name}"]`)
  const exclusive = box.dataset.exclusive === 'true'
  for (const other of group) {
    if (other === box) continue
    if (exclusive || other.dataset.exclusive === 'true') other.checked = false
  }
  return values
}

let timer = null
let saving = false
const status = document.getElementById('autosave-status')

async function autosave () {
  if (!form || form.dataset.autosave !== 'on' || saving) return
  saving = true
  const body = new FormData(form)
  for (const [key, value] of [...body.entries()]) {
    if (value instanceof File) body.delete(key)
  }
  body.set('_action', 'autosave')
  try {
    const response = await fetch(form.action, {
      method: 'POST', body, credentials: 'same-origin', headers: { Accept: 'application/json' }
    })
    const result = await response.json()
    if (response.ok) {
      form.querySelector('input[name=_revision]').value = result.revision
      const time = new Date().toLocaleTimeString(document.documentElement.lang, { hour: '2-digit', minute: '2-digit' })
      status.textContent = (status.dataset.savedText || 'Saved') + ' ' + time
    } else if (result.error) {
      status.textContent = result.error
    }
  } catch (error) {
    status.textContent = status.dataset.offlineText || ''
  } finally {
    saving = false
  }
}

function scheduleSave () {
  clearTimeout(timer)
  timer = setTimeout(autosave, 1500)
}

if (form) {
  document.getElementById('js-flag').value = '1'
  form.addEventListener('input', () => { refresh(); scheduleSave() })
  form.addEventListener('change', (event) => { exclusiveOptions(event); refresh(); scheduleSave() })
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden' && timer) { clearTimeout(timer); autosave() }
  })
  refresh()
}

const summary = document.getElementById('error-summary')
if (summary) summary.focus()
