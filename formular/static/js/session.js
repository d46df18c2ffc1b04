/**
 * The idle time-out warning. The server ends a log-in session after SESSION_IDLE_MINUTES
 * without activity; two minutes before that, this module opens a modal dialog that says so,
 * tells the user their answers are saved, and offers "Stay logged in" (a POST with the CSRF
 * token from <meta name="csrf-token">). If the time runs out, the dialog says the user has been
 * logged out and links to the log-in page, which brings them back here.
 *
 * Polling /session/status does not count as activity on the server, so an abandoned tab still
 * times out; activity in another tab (or form.js saving in the background) moves the deadline,
 * and the next poll closes the warning. Without JavaScript the dialog never opens: every page
 * post counts as activity, and drafts are saved on each page.
 *
 * The markup (texts translated on the server) is templates/auth/_session_dialog.html.
 */

const dialog = document.getElementById('session-timeout')

/** Checks at most this far apart (s), so activity in other tabs is noticed. */
const MAX_POLL = 300
/** Checks this often (s) while the warning is open. */
const WARNING_POLL = 15

function csrfToken () {
  return document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') || ''
}

function init (dialog) {
  const warning = dialog.querySelector('[data-state="warning"]')
  const expired = dialog.querySelector('[data-state="expired"]')
  const message = dialog.querySelector('[data-role="message"]')
  const extendButton = dialog.querySelector('[data-action="extend"]')
  const loginLink = dialog.querySelector('[data-role="login"]')
  const idle = Number(dialog.dataset.idleSeconds) || 1800
  const warn = Number(dialog.dataset.warnSeconds) || 120
  let timer = null
  let returnFocus = null
  let finished = false

  // Log in again and come back to this page.
  const back = window.location.pathname + window.location.search
  const target = new URL(loginLink.getAttribute('href'), window.location.href)
  target.searchParams.set('next', back)
  loginLink.setAttribute('href', target.pathname + target.search)

  function schedule (seconds) {
    window.clearTimeout(timer)
    if (!finished) timer = window.setTimeout(check, Math.max(1, seconds) * 1000)
  }

  function open () {
    if (dialog.open) return
    returnFocus = document.activeElement
    if (typeof dialog.showModal === 'function') dialog.showModal()
    else dialog.setAttribute('open', '')
  }

  function close () {
    if (!dialog.open) return
    if (typeof dialog.close === 'function') dialog.close()
    else dialog.removeAttribute('open')
    message.textContent = ''
    if (returnFocus && typeof returnFocus.focus === 'function') returnFocus.focus()
    returnFocus = null
  }

  function showWarning () {
    warning.hidden = false
    expired.hidden = true
    open()
    extendButton.focus()
  }

  function showExpired () {
    finished = true
    window.clearTimeout(timer)
    warning.hidden = true
    expired.hidden = false
    dialog.setAttribute('aria-labelledby', 'session-expired-title')
    dialog.setAttribute('aria-describedby', 'session-expired-text')
    open()
    loginLink.focus()
  }

  function update (state) {
    if (!state.logged_in || state.seconds_left <= 0) {
      showExpired()
      return
    }
    const warnAt = state.warn_seconds ?? warn
    if (state.seconds_left <= warnAt) {
      if (!dialog.open) showWarning()
      schedule(Math.min(state.seconds_left, WARNING_POLL))
    } else {
      close()
      schedule(Math.min(state.seconds_left - warnAt, MAX_POLL))
    }
  }

  async function request (url, options) {
    const response = await window.fetch(url, {
      credentials: 'same-origin',
      cache: 'no-store',
      ...options,
      headers: { Accept: 'application/json', ...(options?.headers || {}) }
    })
    if (response.status === 401) return { logged_in: false, seconds_left: 0 }
    if (!response.ok) throw new Error(`HTTP ${response.status}`)
    return response.json()
  }

  async function check () {
    try {
      update(await request(dialog.dataset.statusUrl))
    } catch {
      schedule(30) // offline for a moment: try again soon, say nothing yet
    }
  }

  async function extend () {
    extendButton.disabled = true
    try {
      update(await request(dialog.dataset.extendUrl, {
        method: 'POST', headers: { 'X-CSRFToken': csrfToken() }
      }))
    } catch {
      message.textContent = dialog.dataset.errorText || ''
    } finally {
      extendButton.disabled = false
    }
  }

  extendButton.addEventListener('click', extend)
  // Escape would close the warning without telling the server; the user is clearly here.
  dialog.addEventListener('cancel', (event) => {
    if (!finished) {
      event.preventDefault()
      extend()
    }
  })
  // Timers are throttled in background tabs: look again when the tab comes back.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && !finished) check()
  })

  // This page load was activity; the server notes it to the minute.
  schedule(idle - warn - 60)
}

if (dialog) init(dialog)
