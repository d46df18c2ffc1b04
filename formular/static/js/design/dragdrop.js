// Drag and drop in the editor's tree: an item dropped on another item moves just before it, an
// item dropped on a section heading moves to the end of that section. It posts the same
// move-item-to operation as the "Move into section" form, so the keyboard (the move buttons and
// that form) can do everything dragging can.

let dragged = null

function rows (editor) {
  return editor.querySelectorAll('[data-region="tree"] .tree-row')
}

function clearTargets (editor) {
  for (const row of editor.querySelectorAll('.drop-target')) row.classList.remove('drop-target')
}

export function enhanceDragAndDrop (editor, submitOperation) {
  const tree = editor.querySelector('[data-region="tree"]')
  if (!tree || tree.dataset.dragReady) return
  tree.dataset.dragReady = '1'
  const action = editor.querySelector('[data-move-to-url]')
  const url = action ? action.dataset.moveToUrl : null
  if (!url) return
  for (const row of rows(editor)) {
    if (row.dataset.kind !== 'item') continue
    row.draggable = true
    row.title = editor.dataset.msgDragged || ''
  }
  tree.addEventListener('dragstart', event => {
    const row = event.target.closest && event.target.closest('.tree-row[data-kind="item"]')
    if (!row) return
    dragged = row
    row.classList.add('is-dragging')
    event.dataTransfer.effectAllowed = 'move'
    event.dataTransfer.setData('text/plain', row.dataset.node)
  })
  tree.addEventListener('dragend', () => {
    if (dragged) dragged.classList.remove('is-dragging')
    dragged = null
    clearTargets(editor)
  })
  tree.addEventListener('dragover', event => {
    const row = event.target.closest && event.target.closest('.tree-row')
    if (!dragged || !row || row === dragged || row.dataset.kind === 'page') return
    if (row.hasAttribute('data-in-group') !== dragged.hasAttribute('data-in-group')) return
    event.preventDefault()
    clearTargets(editor)
    row.classList.add('drop-target')
  })
  tree.addEventListener('drop', event => {
    const row = event.target.closest && event.target.closest('.tree-row')
    if (!dragged || !row || row === dragged) return
    event.preventDefault()
    const fields = { target: dragged.dataset.node }
    if (row.dataset.kind === 'section') fields.section = row.dataset.node
    else fields.before = row.dataset.node
    clearTargets(editor)
    submitOperation(url, fields)
  })
}
