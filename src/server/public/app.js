// webex-auth — the little vanilla JS of the web app: copy and reveal buttons. Pages work without it.
'use strict';
document.addEventListener('click', (event) => {
  const button =
    event.target instanceof Element ? event.target.closest('button[data-copy], button[data-reveal]') : null;
  if (!button) return;
  if (button.hasAttribute('data-copy')) {
    event.preventDefault();
    const source = document.getElementById(button.getAttribute('data-copy') || '');
    if (!source) return;
    const text = source.getAttribute('data-value') ?? source.textContent ?? '';
    const done = () => {
      button.classList.add('copied');
      setTimeout(() => button.classList.remove('copied'), 1500);
    };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, () => {});
    else {
      const area = document.createElement('textarea');
      area.value = text;
      document.body.appendChild(area);
      area.select();
      try {
        document.execCommand('copy');
        done();
      } catch (_) {
        /* nothing to do */
      }
      area.remove();
    }
  } else {
    event.preventDefault();
    const target = document.getElementById(button.getAttribute('data-reveal') || '');
    if (!target) return;
    const shown = target.getAttribute('data-shown') === 'true';
    target.textContent = shown ? target.getAttribute('data-masked') : target.getAttribute('data-value');
    target.setAttribute('data-shown', String(!shown));
    button.textContent = shown ? 'Reveal' : 'Hide';
    button.setAttribute('aria-pressed', String(!shown));
  }
});
// An avatar that cannot load (offline, moved) is removed, leaving the initial behind it.
const dropBrokenAvatar = (img) => {
  if (img instanceof HTMLImageElement && img.closest('.avatar')) img.remove();
};
document.addEventListener('error', (event) => dropBrokenAvatar(event.target), true);
for (const img of document.querySelectorAll('.avatar img')) {
  if (img.complete && img.naturalWidth === 0) dropBrokenAvatar(img);
}
// A page answered at another address names its own in a canonical link (the OAuth callback answers with the
// connection page): the address bar takes it, so reloading or bookmarking opens the page, not the spent callback.
const canonical = document.querySelector('link[rel="canonical"]')?.getAttribute('href');
if (canonical?.startsWith('/') && canonical !== location.pathname + location.search) {
  history.replaceState(null, '', canonical);
}
