// The condition builder's rows: once a field is chosen, only the comparisons that fit its kind
// are offered, and its value is picked from its options (choices, yes/no) or typed (numbers,
// dates, text). Without this module every comparison and every option is listed and the
// server refuses a combination that does not fit, saying which row is wrong.

const UNARY = new Set(['answered', 'not-answered'])

function update (row, kinds) {
  const field = row.querySelector('[data-condition-field]')
  const operator = row.querySelector('[data-condition-operator]')
  const choice = row.querySelector('[data-condition-choice]')
  const value = row.querySelector('[data-condition-value]')
  const info = kinds[field.value]
  for (const option of operator.options) {
    const fits = !info || info.operators.includes(option.value)
    option.hidden = !fits
    option.disabled = !fits
  }
  if (info && operator.selectedOptions[0] && operator.selectedOptions[0].disabled) {
    operator.value = info.operators[0]
  }
  const picks = info && ['choice', 'multi', 'boolean'].includes(info.kind)
  const unary = UNARY.has(operator.value)
  for (const group of choice.querySelectorAll('optgroup')) {
    let any = false
    for (const option of group.querySelectorAll('option')) {
      const own = picks && option.value.split('\x1f')[0] === field.value
      option.disabled = !own
      any = any || own
    }
    group.hidden = !any
  }
  if (choice.selectedOptions[0] && choice.selectedOptions[0].disabled) choice.value = ''
  choice.hidden = !info || !picks || unary
  value.hidden = !info || picks || unary
}

export function enhanceConditions (root) {
  for (const table of root.querySelectorAll('table[data-condition-rows]')) {
    if (table.dataset.ready) continue
    table.dataset.ready = '1'
    const kinds = JSON.parse(table.dataset.conditionKinds || '{}')
    for (const row of table.querySelectorAll('tbody tr')) {
      update(row, kinds)
      row.addEventListener('change', () => update(row, kinds))
    }
  }
}
