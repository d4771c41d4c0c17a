// The agent types a reply on a website-chat ticket: the visitor's widget shows "… is typing".
// Only the reply form (#reply-form) signals, never the internal-note form; one POST every
// few seconds at most, and none once the reply is sent. The server decides who may send it
// and throttles again; the widget hides the note by itself when the signals stop.
(() => {
  if (window.chatAgentTypingListening) return;
  window.chatAgentTypingListening = true;
  const script = document.currentScript;
  const url = script && script.dataset.url;
  const every = Number((script && script.dataset.every) || 2500);
  if (!url) return;
  let last = 0;

  document.addEventListener("input", (event) => {
    const area = event.target;
    if (!(area instanceof HTMLTextAreaElement) || area.name !== "body") return;
    const form = area.closest("form");
    if (!form || form.id !== "reply-form" || !area.value.trim()) return;
    if (Date.now() - last < every) return;
    last = Date.now();
    const csrf = form.querySelector("input[name=csrfmiddlewaretoken]");
    fetch(url, {
      method: "POST",
      headers: { "X-CSRFToken": csrf ? csrf.value : "" },
      credentials: "same-origin",
    }).catch(() => {});
  });
  // The reply leaves: stop, the next keystroke belongs to a new reply.
  document.addEventListener("submit", (event) => {
    if (event.target instanceof HTMLFormElement && event.target.id === "reply-form") last = Date.now();
  });
})();
