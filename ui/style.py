"""CSS and the small JavaScript handlers of the HTML panels.

The CSS goes into ``gr.HTML(css_template=...)``, which Gradio scopes to the component; it is
also a JS template string, so it holds no backticks, backslashes or ``${``.
"""

from __future__ import annotations

CSS = """
.conversation { display: flex; flex-direction: column; gap: 12px; padding: 4px; }
.empty, .documents.empty { color: var(--body-text-color-subdued, #666); padding: 8px; }
.msg { display: flex; }
.msg.user { justify-content: flex-end; }
.bubble { max-width: 92%; padding: 10px 14px; border-radius: 12px; line-height: 1.5;
  border: 1px solid var(--border-color-primary, #ddd); white-space: pre-wrap;
  overflow-wrap: anywhere; }
.msg.user .bubble { background: var(--color-accent-soft, #eef2ff); }
.msg.bot .bubble { background: var(--background-fill-secondary, #f7f7f8); }
.msg.refused .bubble { background: var(--background-fill-primary, #fff);
  border: 1px dashed #b45309; color: var(--body-text-color-subdued, #555); font-style: italic; }
.refused-label, .error-label { font-weight: 600; font-style: normal; font-size: 0.85em;
  text-transform: uppercase; letter-spacing: 0.04em; margin-bottom: 4px; }
.refused-label { color: #b45309; }
.msg.error .bubble { border: 1px solid #dc2626; background: #fef2f2; color: #7f1d1d; }
.error-label { color: #dc2626; }
.thinking { color: var(--body-text-color-subdued, #666); font-style: italic; }
.answer-phrase { background: #fde68a; color: #1f2937; padding: 0 2px; border-radius: 3px; }
.marker { cursor: pointer; color: var(--color-accent, #2563eb); font-weight: 600;
  padding: 0 1px; }
.marker:hover { text-decoration: underline; }
.citations { margin-top: 10px; display: flex; flex-direction: column; gap: 8px;
  white-space: normal; font-style: normal; }
.citation { cursor: pointer; border-left: 3px solid var(--color-accent, #2563eb);
  background: var(--background-fill-primary, #fff); padding: 6px 10px; border-radius: 6px;
  font-size: 0.92em; }
.citation:hover, .citation:focus { outline: 2px solid var(--color-accent, #2563eb); }
.citation-head { font-size: 0.9em; margin-bottom: 3px; }
.citation-n { font-weight: 700; color: var(--color-accent, #2563eb); }
.source { font-weight: 600; font-family: var(--font-mono, monospace); }
.offsets { color: var(--body-text-color-subdued, #777); font-size: 0.9em; }
.context { color: var(--body-text-color, #333); white-space: pre-wrap; }
.context .around { opacity: 0.72; }
mark.cited { background: #fef08a; color: #111827; padding: 1px 2px; border-radius: 3px; }
mark.cited .hl { background: #facc15; }
.document .doc-head { position: sticky; top: 0; padding: 6px 8px;
  background: var(--background-fill-secondary, #f7f7f8);
  border-bottom: 1px solid var(--border-color-primary, #ddd); }
.doc-text { white-space: pre-wrap; overflow-wrap: anywhere; font-family: inherit;
  font-size: 0.95em; line-height: 1.55; padding: 8px; margin: 0; background: none; }
.doc-text mark.cited { outline: 2px solid #eab308; }
.doc-cut { color: var(--body-text-color-subdued, #777); font-style: italic; padding: 4px 8px; }
.documents table { width: 100%; border-collapse: collapse; font-size: 0.92em; }
.documents th { text-align: left; }
.documents table, .documents td, .documents th { border: 0; }
.documents td, .documents th { padding: 4px 6px; }
.documents tr { border: 0; border-bottom: 1px solid var(--border-color-primary, #eee); }
.documents td.source { overflow-wrap: anywhere; }
.documents td.num { text-align: right; }
.doc-row { cursor: pointer; }
.doc-row:hover { background: var(--background-fill-secondary, #f3f4f6); }
.doc-count { font-size: 0.9em; margin-bottom: 4px; color: var(--body-text-color-subdued, #666); }
.status { list-style: none; padding: 0; margin: 0; }
.status li { padding: 4px 8px; border-radius: 4px; margin: 2px 0; overflow-wrap: anywhere; }
.status li.ok { background: #ecfdf5; color: #065f46; }
.status li.error { background: #fef2f2; color: #991b1b; }
.status.progress progress { width: 60%; vertical-align: middle; }
.viewer-empty { color: var(--body-text-color-subdued, #666); padding: 8px; }
.page { font-weight: 600; }
.answer-tools { margin-top: 6px; text-align: right; white-space: normal; font-style: normal; }
.copy { font-size: 0.8em; padding: 2px 10px; border-radius: 6px; cursor: pointer;
  border: 1px solid var(--border-color-primary, #ccc);
  background: var(--background-fill-primary, #fff); color: var(--body-text-color, #333); }
.copy:hover { border-color: var(--color-accent, #2563eb); }
.status-line { font-size: 0.88em; color: var(--body-text-color-subdued, #555); padding: 2px 4px; }
.status-line .sl-fallback { color: #92400e; }
.confirm { padding: 6px 8px; color: #7f1d1d; }
"""

CITATION_CLICK_JS = """
const copied = (button) => {
  button.textContent = 'Copied';
  setTimeout(() => { button.textContent = 'Copy'; }, 1500);
};
const copy = (button) => {
  const text = button.getAttribute('data-copy') || '';
  const fallback = () => {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    document.execCommand('copy');
    area.remove();
    copied(button);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(() => copied(button), fallback);
  } else {
    fallback();
  }
};
const pick = (event) => {
  const button = event.target.closest('button.copy');
  if (button && element.contains(button)) {
    event.preventDefault();
    copy(button);
    return;
  }
  const el = event.target.closest('[data-turn][data-n]');
  if (!el || !element.contains(el)) return;
  event.preventDefault();
  trigger('click', {turn: Number(el.getAttribute('data-turn')),
                    n: Number(el.getAttribute('data-n'))});
};
element.addEventListener('click', pick);
element.addEventListener('keydown', (event) => {
  if (event.target.closest('button')) return;  // a button clicks itself
  if (event.key === 'Enter' || event.key === ' ') pick(event);
});
"""

DOCUMENT_CLICK_JS = """
const pick = (event) => {
  const el = event.target.closest('[data-doc]');
  if (!el || !element.contains(el)) return;
  event.preventDefault();
  trigger('click', {doc: Number(el.getAttribute('data-doc'))});
};
element.addEventListener('click', pick);
element.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' || event.key === ' ') pick(event);
});
"""

SCROLL_TO_SPAN_JS = """
const show = () => {
  const mark = element.querySelector('#cited-span');
  if (mark) { mark.scrollIntoView({block: 'center'}); return; }
  const doc = element.querySelector('.document');
  if (doc) doc.scrollIntoView({block: 'start'});
};
watch('value', show);
show();
"""
