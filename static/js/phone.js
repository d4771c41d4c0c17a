// The caller pop-up (phone/): a call ringing in one of the agent's pools shows a card with
// the caller (or "unidentified"), their open tickets and a button into the intake wizard.
// The live stream (live.js) dispatches "live:call.ringing" with {call: id}; the card itself
// is fetched from the server, which shows only what this agent may see.
(() => {
  const script = document.currentScript;
  const cardUrl = (id) => script.dataset.cardUrl.replace("/0/", `/${encodeURIComponent(id)}/`);

  const container = () => {
    let box = document.getElementById("call-popups");
    if (!box) {
      box = document.createElement("div");
      box.id = "call-popups";
      box.className = "toast-container position-fixed bottom-0 end-0 p-3";
      box.setAttribute("aria-live", "polite");
      document.body.append(box);
    }
    return box;
  };

  document.addEventListener("live:call.ringing", async (event) => {
    const id = String(event.detail && event.detail.call);
    if (!/^\d+$/.test(id) || document.querySelector(`.call-popup[data-call="${id}"]`)) return;
    const response = await fetch(cardUrl(id), { credentials: "same-origin" });
    if (!response.ok) return;
    const popup = document.createElement("div");
    popup.className = "toast show call-popup";
    popup.dataset.call = id;
    popup.setAttribute("role", "alert");
    const header = document.createElement("div");
    header.className = "toast-header";
    const title = document.createElement("strong");
    title.className = "me-auto";
    title.textContent = script.dataset.title;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("aria-label", script.dataset.close);
    close.addEventListener("click", () => popup.remove());
    header.append(title, close);
    const body = document.createElement("div");
    body.className = "toast-body";
    body.innerHTML = await response.text(); // our own server's escaped template
    popup.append(header, body);
    container().append(popup);
  });

  document.addEventListener("live:call.ended", (event) => {
    const id = String(event.detail && event.detail.call);
    const popup = document.querySelector(`.call-popup[data-call="${CSS.escape(id)}"]`);
    if (popup && !popup.querySelector(".call-ended")) {
      const note = document.createElement("div");
      note.className = "call-ended small text-body-secondary";
      note.textContent = script.dataset.ended;
      popup.querySelector(".toast-body").append(note);
    }
  });
})();
