// The chat thread on a ticket page follows live events (LIVE_SPEC.md): a new message or a
// delivery report for this ticket makes htmx fetch the thread again. Events of other
// tickets (the pool's topic) are ignored here, so a busy pool costs no requests.
(() => {
  // The thread (and this script with it) may be swapped in again: listen once per page.
  if (window.chatThreadListening) return;
  window.chatThreadListening = true;
  const refresh = (event) => {
    const thread = document.getElementById("chat-thread");
    if (thread && window.htmx && event.detail && event.detail.ticket === thread.dataset.ticket) {
      window.htmx.trigger(thread, "chat:refresh");
    }
  };
  document.addEventListener("live:chat.message", refresh);
  document.addEventListener("live:chat.status", refresh);
})();
