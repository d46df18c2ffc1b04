/**
 * The staff reply form, enhanced: "Insert the standard reply" puts the chosen reply into the
 * message at once (after what is already written) and moves the focus there, so it can be
 * changed before sending. Without this module the button posts the form and the server does
 * the same, so nothing depends on it.
 */
const data = document.getElementById('standard-replies')
const button = document.getElementById('reply-insert')
const select = document.getElementById('reply-standard')
const message = document.getElementById('reply-message')
const status = document.getElementById('reply-insert-status')

if (data && button && select && message) {
  const bodies = JSON.parse(data.textContent || '{}')
  button.addEventListener('click', (event) => {
    const body = bodies[select.value]
    if (typeof body !== 'string') return // nothing chosen: the server explains
    event.preventDefault()
    const written = message.value.replace(/\s+$/, '')
    message.value = written ? `${written}\n\n${body}` : body
    message.focus()
    if (status) status.textContent = status.dataset.done || ''
  })
}
