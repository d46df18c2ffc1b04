// The raw JSON view checks the text as it is typed, with the platform's own checks (the
// draft's validate endpoint), and lists the problems under the text. Saving is still the
// form's plain post.
const DELAY_MS = 500

function render (box, editor, problems, error) {
  box.replaceChildren()
  const summary = document.createElement('p')
  if (error) {
    summary.textContent = error
  } else if (!problems.length) {
    summary.textContent = editor.dataset.msgJsonOk
  } else {
    summary.textContent = editor.dataset.msgJsonCount.replace('{n}', String(problems.length))
  }
  box.append(summary)
  if (!problems.length) return
  const list = document.createElement('ul')
  for (const problem of problems.slice(0, 30)) {
    const item = document.createElement('li')
    const where = document.createElement('code')
    where.textContent = problem.pointer || '/'
    item.append(where, ` ${problem.message}`)
    if (problem.detail) item.append(` – ${problem.detail}`)
    list.append(item)
  }
  box.append(list)
}

export function enhanceJson (root, editor) {
  const area = root.querySelector('textarea[data-json-editor]')
  const box = root.querySelector('[data-json-check]')
  if (!area || !box || area.dataset.ready) return
  area.dataset.ready = '1'
  let timer = null
  let asked = 0
  area.addEventListener('input', () => {
    clearTimeout(timer)
    timer = setTimeout(async () => {
      const ticket = ++asked
      box.textContent = editor.dataset.msgChecking
      try {
        const response = await fetch(editor.dataset.validateUrl, {
          method: 'POST',
          body: area.value,
          credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': document.querySelector('meta[name="csrf-token"]').content }
        })
        const answer = await response.json()
        if (ticket === asked) render(box, editor, answer.problems || [], answer.error || '')
      } catch (error) {
        if (ticket === asked) render(box, editor, [], editor.dataset.msgOffline)
      }
    }, DELAY_MS)
  })
}
