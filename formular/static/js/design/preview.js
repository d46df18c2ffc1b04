// The live preview frame: its controls (language, age, sex, audience) load the frame at once
// when changed, and after every saved change the frame is loaded again, on the page of the
// element being edited, so the designer sees the real renderer's output of the new draft.
let timer = null

function frameUrl (editor, page) {
  const form = editor.querySelector('[data-preview-controls]')
  const url = new URL(form.action, window.location.href)
  for (const [name, value] of new FormData(form)) {
    if (value !== '') url.searchParams.set(name, value)
  }
  if (page !== undefined) url.searchParams.set('page', page)
  return url
}

export function enhancePreview (editor) {
  const form = editor.querySelector('[data-preview-controls]')
  if (!form) return
  form.addEventListener('change', () => form.requestSubmit())
}

export function reloadPreview (editor, fresh) {
  const frame = editor.querySelector('#preview-frame')
  if (!frame) return
  const region = fresh.querySelector('[data-preview-page]')
  const page = region ? region.dataset.previewPage : undefined
  const field = editor.querySelector('[data-preview-page-field]')
  if (field && page !== undefined) field.value = page
  clearTimeout(timer)
  timer = setTimeout(() => { frame.src = frameUrl(editor, page).toString() }, 250)
}
