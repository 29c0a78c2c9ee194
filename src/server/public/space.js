// webex-auth — the live space page: new messages arrive from /space/events (server-sent events) without a reload.
// Each event carries the message's list item as HTML the server rendered and escaped (raw HTML off, http(s) links
// only); the page works without this script, a reload shows the same list.
'use strict';
(() => {
  const list = document.getElementById('messages');
  const status = document.getElementById('live-status');
  const url = list?.getAttribute('data-events');
  if (!list || !url || typeof EventSource !== 'function') return;
  const source = new EventSource(url);
  const setState = (state, text) => {
    list.setAttribute('data-live', state);
    if (status) status.textContent = text;
  };
  source.addEventListener('ready', () => setState('on', 'Live: new messages appear here.'));
  source.addEventListener('message', (event) => {
    let m;
    try {
      m = JSON.parse(event.data);
    } catch (_) {
      return;
    }
    if (!m || typeof m.id !== 'string' || typeof m.html !== 'string') return;
    for (const li of list.querySelectorAll('li[data-id]')) if (li.getAttribute('data-id') === m.id) return;
    document.getElementById('no-messages')?.remove();
    const template = document.createElement('template');
    template.innerHTML = m.html;
    const item = template.content.firstElementChild;
    if (!item) return;
    const nearBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
    list.appendChild(item);
    if (nearBottom) item.scrollIntoView({ block: 'nearest' });
  });
  source.addEventListener('error', () => {
    // EventSource reconnects by itself (after `retry`); a closed one (a refusal) stays closed.
    setState(source.readyState === EventSource.CLOSED ? 'off' : 'reconnecting', 'Live updates paused.');
  });
})();
