// The form editor, enhanced. Without this module every control is a plain form post and the
// server answers with the whole editor page; with it, the same forms are posted with fetch and
// the page's regions (data-region) are replaced by the ones in the server's answer, so the
// server stays the only authority and both ways behave alike. On top: text fields autosave
// (debounced) without disturbing the field being typed in, focus stays where the server says
// (the moved item's button) or where it was, and every outcome is announced in #editor-live.
import { enhanceConditions } from './conditions.js'
import { enhanceDragAndDrop } from './dragdrop.js'
import { enhanceJson } from './jsonview.js'
import { enhancePreview, reloadPreview } from './preview.js'

const AUTOSAVE_DELAY_MS = 800
const editor = document.getElementById('editor')
const timers = new Map()
let queue = Promise.resolve()
let paused = false

function text (key) {
  return editor.dataset[key] || ''
}

function announce (html, isError = false) {
  const live = document.getElementById('editor-live')
  live.classList.toggle('is-error', isError)
  live.replaceChildren(...html)
}

function announceText (message, isError = false) {
  const paragraph = document.createElement('p')
  paragraph.textContent = message
  announce([paragraph], isError)
}

function setRevision (revision) {
  if (!revision) return
  editor.dataset.revision = revision
  for (const input of document.querySelectorAll('input[data-revision]')) input.value = revision
}

function regions (root) {
  return root.querySelectorAll('[data-region]')
}

// Replace the regions named in `names` by the fresh ones; keep focus on the control the server
// marks with autofocus, else on the element with the same id as before.
function swap (fresh, names) {
  const focusedId = document.activeElement && document.activeElement.id
  for (const region of regions(fresh)) {
    const name = region.dataset.region
    if (!names.includes(name)) continue
    const current = editor.querySelector(`[data-region="${name}"]`)
    if (current) current.replaceWith(document.importNode(region, true))
  }
  enhance(editor)
  const wanted = names.map(name => editor.querySelector(`[data-region="${name}"] [autofocus]`))
    .find(Boolean) || (focusedId && document.getElementById(focusedId))
  if (wanted) {
    const details = wanted.closest('details')
    if (details) details.open = true
    wanted.focus()
  }
}

function freshEditor (html) {
  const parsed = new DOMParser().parseFromString(html, 'text/html')
  return parsed.getElementById('editor')
}

function showBox (fresh, form) {
  // An autosave refused (bad value, or somebody else saved): show the server's box above the
  // form without replacing the form, so nothing typed meanwhile is lost.
  const box = fresh.querySelector('[data-conflict], [data-op-error]')
  const main = editor.querySelector('[data-region="main"]')
  for (const old of main.querySelectorAll('[data-conflict], [data-op-error]')) old.remove()
  if (!box) return
  const copy = document.importNode(box, true)
  copy.removeAttribute('autofocus')
  const tabs = main.querySelector('.panel-tabs')
  tabs.after(copy)
  if (copy.hasAttribute('data-conflict')) paused = true
}

function syncHidden (fresh, form) {
  const twin = form.id && fresh.querySelector(`#${CSS.escape(form.id)}`)
  if (!twin) return
  for (const input of form.querySelectorAll('input[data-sync]')) {
    const other = twin.querySelector(`input[data-sync][name="${CSS.escape(input.name)}"]`)
    if (other) input.value = other.value
  }
}

async function post (form, submitter, mode) {
  const data = new FormData(form, submitter || undefined)
  const action = submitter && submitter.hasAttribute('formaction') ? submitter.formAction : form.action
  if (mode !== 'try') announceText(text('msgSaving'))
  let response
  try {
    response = await fetch(action, { method: 'POST', body: data, credentials: 'same-origin', headers: { 'X-Requested-With': 'fetch' } })
  } catch (error) {
    announceText(text('msgOffline'), true)
    return
  }
  const fresh = freshEditor(await response.text())
  if (!fresh) {
    // Not the editor (logged out, refused): let the browser show whatever it is.
    window.location.assign(response.redirected ? response.url : window.location.href)
    return
  }
  if (mode === 'try') {
    const result = fresh.querySelector('[data-try-result]')
    const current = editor.querySelector('[data-try-result]')
    if (result && current) current.replaceWith(document.importNode(result, true))
    if (!response.ok) showBox(fresh, form)
    return
  }
  const live = fresh.querySelector('#editor-live')
  if (response.ok) {
    if (response.redirected) window.history.replaceState(null, '', response.url)
    setRevision(fresh.dataset.revision)
    if (mode === 'quiet') {
      syncHidden(fresh, form)
      const main = editor.querySelector('[data-region="main"]')
      for (const old of main.querySelectorAll('[data-conflict], [data-op-error]')) old.remove()
      for (const field of form.querySelectorAll('[aria-invalid="true"]')) field.removeAttribute('aria-invalid')
      swap(fresh, ['header', 'tree'])
    } else {
      swap(fresh, ['header', 'tree', 'main'])
    }
    announce(live ? [...live.childNodes].map(node => document.importNode(node, true)) : [])
    reloadPreview(editor, fresh)
    return
  }
  const box = fresh.querySelector('[data-conflict], [data-op-error]')
  if (mode === 'quiet') {
    showBox(fresh, form)
  } else {
    swap(fresh, ['header', 'tree', 'main'])
  }
  announceText(`${text('msgNotSaved')} ${box ? box.textContent.trim().replace(/\s+/g, ' ') : response.status}`, true)
}

let pending = 0
const quietWaiting = new Map()

// The regions being replaced are busy (not the live region, so announcements are not held back).
function busy (change) {
  pending += change
  const grid = editor.querySelector('.editor-grid')
  if (pending > 0) grid.setAttribute('aria-busy', 'true')
  else grid.removeAttribute('aria-busy')
}

export function submit (form, submitter = null, mode = 'all') {
  // One request at a time: each carries the revision the previous one produced. A quiet
  // autosave still waiting when the same form is saved outright is dropped (same values).
  if (mode !== 'quiet' && quietWaiting.has(form)) quietWaiting.get(form).cancelled = true
  const ticket = { cancelled: false }
  if (mode === 'quiet') quietWaiting.set(form, ticket)
  busy(1)
  queue = queue.then(() => {
    if (quietWaiting.get(form) === ticket) quietWaiting.delete(form)
    return ticket.cancelled ? null : post(form, submitter, mode)
  }).catch(() => {}).finally(() => busy(-1))
  return queue
}

// A hidden form for operations started by script (drag and drop).
export function submitOperation (action, fields) {
  const form = document.createElement('form')
  form.method = 'post'
  form.action = action
  form.hidden = true
  const values = { csrf_token: document.querySelector('meta[name="csrf-token"]').content, revision: editor.dataset.revision, ...fields }
  for (const [name, value] of Object.entries(values)) {
    const input = document.createElement('input')
    input.type = 'hidden'
    input.name = name
    input.value = value
    if (name === 'revision') input.dataset.revision = ''
    form.append(input)
  }
  editor.append(form)
  return submit(form).finally(() => form.remove())
}

function onSubmit (event) {
  const form = event.target
  if (!(form instanceof HTMLFormElement) || !editor.contains(form)) return
  if (!form.hasAttribute('data-fetch')) return
  const submitter = event.submitter
  if (submitter && submitter.getAttribute('aria-disabled') === 'true') {
    event.preventDefault()
    return
  }
  event.preventDefault()
  clearTimeout(timers.get(form))
  paused = false
  const mode = form.hasAttribute('data-try') && !(submitter && submitter.hasAttribute('formaction')) ? 'try' : 'all'
  submit(form, submitter, mode)
}

function autosaveForm (target) {
  const form = target.form
  return form && form.hasAttribute('data-autosave') && editor.contains(form) ? form : null
}

// A row half filled in (an option with a value but no label yet) is not worth saving: the
// server would refuse it while the designer is still typing.
function halfFilled (form) {
  for (const row of form.querySelectorAll('tr')) {
    const needed = [...row.querySelectorAll('[data-row-required]')]
    const filled = needed.filter(input => input.value.trim() !== '').length
    if (filled > 0 && filled < needed.length) return true
  }
  return false
}

function onInput (event) {
  const target = event.target
  if (target.closest && target.closest('[data-try]')) return
  const form = autosaveForm(target)
  if (!form || paused || target.dataset.autosave !== 'text') return
  clearTimeout(timers.get(form))
  timers.set(form, setTimeout(() => {
    timers.delete(form)
    if (!halfFilled(form)) submit(form, null, 'quiet')
  }, AUTOSAVE_DELAY_MS))
}

function onChange (event) {
  const target = event.target
  const tryForm = target.closest && target.closest('form[data-try]')
  if (tryForm && target.name !== 'case_name') {
    submit(tryForm, null, 'try')
    return
  }
  const form = autosaveForm(target)
  if (!form || paused) return
  if (target.dataset.autosave === 'text') {
    // Leaving a field saves what is pending at once (still without replacing the form).
    if (timers.has(form)) {
      clearTimeout(timers.get(form))
      timers.delete(form)
      if (!halfFilled(form)) submit(form, null, 'quiet')
    }
    return
  }
  // Choices and renames change what the form shows: save and redraw it.
  clearTimeout(timers.get(form))
  timers.delete(form)
  submit(form, null, 'all')
}

function onClick (event) {
  const resave = event.target.closest && event.target.closest('[data-resave]')
  if (resave) {
    // Apply my values on top of the latest revision the conflict box names.
    const box = resave.closest('[data-conflict]')
    const form = document.getElementById(resave.getAttribute('form'))
    if (box && form) {
      for (const input of form.querySelectorAll('input[data-revision]')) input.value = box.dataset.revision
    }
    paused = false
  }
}

function enhance (root) {
  enhanceConditions(root)
  enhanceJson(root, editor)
  enhanceDragAndDrop(editor, submitOperation)
}

if (editor) {
  document.addEventListener('submit', onSubmit)
  document.addEventListener('input', onInput)
  document.addEventListener('change', onChange)
  document.addEventListener('click', onClick)
  for (const note of editor.querySelectorAll('.autosave-note')) note.hidden = false
  enhance(editor)
  enhancePreview(editor)
  editor.dataset.enhanced = '1'
}
