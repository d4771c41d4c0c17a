// "The customer is writing…" under a chat thread, while the widget says they type (the live
// event chat.typing on this ticket's topic); it goes away after a few quiet seconds.
(() => {
  if (window.chatTypingListening) return;
  window.chatTypingListening = true;
  const script = document.currentScript;
  const text = (script && script.dataset.typingText) || "…";
  let timer = null;
  document.addEventListener("live:chat.typing", (event) => {
    const thread = document.getElementById("chat-thread");
    if (!thread || !event.detail || event.detail.ticket !== thread.dataset.ticket) return;
    let note = document.getElementById("chat-typing");
    if (!note) {
      note = document.createElement("p");
      note.id = "chat-typing";
      note.className = "small text-body-secondary fst-italic mb-2";
      note.setAttribute("aria-live", "polite");
      note.textContent = text;
      thread.after(note);
    }
    note.hidden = false;
    clearTimeout(timer);
    timer = setTimeout(() => {
      note.hidden = true;
    }, 5000);
  });
  // A new message from them ends the typing.
  document.addEventListener("live:chat.message", () => {
    const note = document.getElementById("chat-typing");
    if (note) note.hidden = true;
  });
})();
